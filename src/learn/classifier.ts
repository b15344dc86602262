// Class-balanced multinomial logistic regression on feature rows, with negative examples (a rejected
// label: loss -log(1 - p_label)), L2 regularisation, warm start from the previous weights (incremental
// retraining), temperature-scaled probabilities, and a hard mask: a rejected (row, class) gets probability 0.

export interface TrainSet {
  /** feature rows of positives */
  rows: Int32Array;
  /** class index per positive row */
  y: Int32Array;
  /** negatives: rows and the class they are NOT */
  negRows: Int32Array;
  negY: Int32Array;
  /** optional weight multiplier per positive (e.g. 0.5 for cluster-assigned, 1 for confirmed) */
  pw?: Float32Array;
}

export interface Model {
  K: number;
  d: number;
  /** K × (d + 1), last column is the bias */
  W: Float32Array;
  temperature: number;
  /** cross-fitted twin (see learn.worker.ts train): trained on the other half of the cluster-assigned photos */
  twin?: Model;
}

export interface TrainOptions {
  iters?: number;
  lr?: number;
  l2?: number;
  /** keep at most this many positives per class (random, deterministic) to bound the cost */
  capPerClass?: number;
  warm?: Model | null;
}

/** The training problem after capping and weighting (shared by the JS loop and the ONNX kernel). */
export interface Prepared {
  /** feature row, class and weight per example; negatives (rejections) after the positives */
  rows: Int32Array; cls: Int32Array; wt: Float32Array; isNeg: Uint8Array;
  iters: number; lr: number; l2: number;
  /** K × (d + 1) start weights (warm start or zeros) */
  W: Float32Array;
}

/** Caps the positives per class, computes the class-balanced weights and the start weights. */
export function prepareTrain(d: number, K: number, set: TrainSet, opts: TrainOptions = {}): Prepared {
  const stride = d + 1;
  const W = new Float32Array(K * stride);
  const warm = opts.warm && opts.warm.K <= K && opts.warm.d === d ? opts.warm : null;
  if (warm) W.set(warm.W.subarray(0, warm.K * stride));
  const iters = opts.iters ?? (warm ? 10 : 80);
  const lr = opts.lr ?? 1.0;
  const l2 = opts.l2 ?? 1e-3;
  // cap positives per class
  const cap = opts.capPerClass ?? 120;
  const byClass: number[][] = Array.from({ length: K }, () => []);
  for (let i = 0; i < set.rows.length; i++) byClass[set.y[i]].push(i);
  const chosen: number[] = [];
  for (const list of byClass) {
    if (list.length <= cap) chosen.push(...list);
    else { const step = list.length / cap; for (let j = 0; j < cap; j++) chosen.push(list[Math.floor(j * step)]); }
  }
  const present = byClass.filter((l) => l.length > 0).length || 1;
  const nPos = chosen.length;
  const nNeg = set.negRows.length;
  const rows = new Int32Array(nPos + nNeg);
  const cls = new Int32Array(nPos + nNeg);
  const wt = new Float32Array(nPos + nNeg);
  const isNeg = new Uint8Array(nPos + nNeg);
  for (let j = 0; j < nPos; j++) {
    const i = chosen[j];
    rows[j] = set.rows[i]; cls[j] = set.y[i];
    wt[j] = (set.pw ? set.pw[i] : 1) / (present * Math.min(cap, byClass[set.y[i]].length));
  }
  const negW = nPos > 0 ? 1 / Math.max(nPos, 20) : 1 / Math.max(1, nNeg);
  for (let j = 0; j < nNeg; j++) { rows[nPos + j] = set.negRows[j]; cls[nPos + j] = set.negY[j]; wt[nPos + j] = negW; isNeg[nPos + j] = 1; }
  return { rows, cls, wt, isNeg, iters, lr, l2, W };
}

export const NESTEROV_MU = 0.9;

/** Nesterov look-ahead weights Wl = W + mu V (the gradient is taken there). */
export function lookAhead(W: Float32Array, V: Float32Array, Wl: Float32Array): void {
  for (let q = 0; q < Wl.length; q++) Wl[q] = W[q] + NESTEROV_MU * V[q];
}

/** One Nesterov step from the gradient G (K × (d + 1)) taken at Wl; the bias column is not regularised. */
export function nesterovStep(W: Float32Array, V: Float32Array, Wl: Float32Array, G: Float32Array, d: number, lr: number, l2: number): void {
  const stride = d + 1;
  for (let q = 0; q < W.length; q++) {
    const reg = (q % stride) === d ? 0 : l2 * Wl[q];
    V[q] = NESTEROV_MU * V[q] - lr * (G[q] + reg);
    W[q] += V[q];
  }
}

/** Class-balanced multinomial LR by full-batch Nesterov gradient descent, in plain JS loops (the reference kernel). */
export function trainLogReg(X: Float32Array, d: number, K: number, set: TrainSet, opts: TrainOptions = {}): Model {
  const stride = d + 1;
  const { rows, cls, wt, isNeg, iters, lr, l2, W } = prepareTrain(d, K, set, opts);
  const N = rows.length;
  const G = new Float32Array(K * stride);
  const V = new Float32Array(K * stride);
  const z = new Float64Array(K);
  const Wl = new Float32Array(K * stride);
  for (let it = 0; it < iters; it++) {
    G.fill(0);
    lookAhead(W, V, Wl);
    for (let j = 0; j < N; j++) {
      const xo = rows[j] * d;
      let zmax = -Infinity;
      for (let c = 0; c < K; c++) {
        const wo = c * stride;
        let s = Wl[wo + d];
        for (let a = 0; a < d; a++) s += Wl[wo + a] * X[xo + a];
        z[c] = s; if (s > zmax) zmax = s;
      }
      let sum = 0;
      for (let c = 0; c < K; c++) { z[c] = Math.exp(z[c] - zmax); sum += z[c]; }
      for (let c = 0; c < K; c++) z[c] /= sum;
      const t = cls[j];
      const w = wt[j];
      if (!isNeg[j]) {
        for (let c = 0; c < K; c++) {
          const g = w * (z[c] - (c === t ? 1 : 0));
          if (g === 0) continue;
          const wo = c * stride;
          for (let a = 0; a < d; a++) G[wo + a] += g * X[xo + a];
          G[wo + d] += g;
        }
      } else {
        const pr = Math.min(z[t], 1 - 1e-6);
        const f = w * pr / (1 - pr);
        for (let c = 0; c < K; c++) {
          const g = f * ((c === t ? 1 : 0) - z[c]);
          if (g === 0) continue;
          const wo = c * stride;
          for (let a = 0; a < d; a++) G[wo + a] += g * X[xo + a];
          G[wo + d] += g;
        }
      }
    }
    nesterovStep(W, V, Wl, G, d, lr, l2);
  }
  return { K, d, W, temperature: 1 };
}

export interface Predictions {
  /** best class per row, -1 when every class is masked */
  best: Int32Array;
  /** calibrated probability of the best class */
  prob: Float32Array;
  /** probability of the best minus the second best */
  margin: Float32Array;
}

/**
 * Predicts every row of X (n × d). masked(row) returns the classes that must never be suggested for that
 * row (rejections), or undefined.
 */
export function predictAll(X: Float32Array, n: number, model: Model, masked?: (row: number) => Iterable<number> | undefined): Predictions {
  const { K, d, W, temperature } = model;
  const stride = d + 1;
  const best = new Int32Array(n);
  const prob = new Float32Array(n);
  const margin = new Float32Array(n);
  const Z = new Float64Array(4 * K);
  for (let i0 = 0; i0 < n; i0 += 4) {
    const m = Math.min(4, n - i0);
    const o0 = i0 * d, o1 = (i0 + Math.min(1, m - 1)) * d, o2 = (i0 + Math.min(2, m - 1)) * d, o3 = (i0 + Math.min(3, m - 1)) * d;
    // logits of 4 rows at a time (each weight row is loaded once for the 4)
    for (let c = 0; c < K; c++) {
      const wo = c * stride;
      let s0 = W[wo + d], s1 = s0, s2 = s0, s3 = s0;
      for (let a = 0; a < d; a++) {
        const w = W[wo + a];
        s0 += w * X[o0 + a]; s1 += w * X[o1 + a]; s2 += w * X[o2 + a]; s3 += w * X[o3 + a];
      }
      Z[c] = s0 / temperature; Z[K + c] = s1 / temperature; Z[2 * K + c] = s2 / temperature; Z[3 * K + c] = s3 / temperature;
    }
    for (let r = 0; r < m; r++) {
      const i = i0 + r, zo = r * K;
      let zmax = -Infinity;
      for (let c = 0; c < K; c++) if (Z[zo + c] > zmax) zmax = Z[zo + c];
      let sum = 0;
      for (let c = 0; c < K; c++) { const e = Math.exp(Z[zo + c] - zmax); Z[zo + c] = e; sum += e; }
      const mk = masked?.(i);
      if (mk) for (const c of mk) if (c >= 0 && c < K) { sum -= Z[zo + c]; Z[zo + c] = 0; }
      let b = -1, p1 = 0, p2 = 0;
      if (sum > 0) {
        for (let c = 0; c < K; c++) {
          const p = Z[zo + c] / sum;
          if (p > p1) { p2 = p1; p1 = p; b = c; } else if (p > p2) p2 = p;
        }
      }
      best[i] = b; prob[i] = p1; margin[i] = p1 - p2;
    }
  }
  return { best, prob, margin };
}

/** Fits the softmax temperature on held-out (row, class) pairs: the T in [0.05, 20] minimising the NLL. */
export function fitTemperature(X: Float32Array, model: Model, rows: Int32Array, y: Int32Array): number {
  if (rows.length < 10) return 1;
  const { K, d, W } = model;
  const stride = d + 1;
  const logits = new Float64Array(rows.length * K);
  for (let j = 0; j < rows.length; j++) {
    const xo = rows[j] * d;
    for (let c = 0; c < K; c++) {
      const wo = c * stride;
      let s = W[wo + d];
      for (let a = 0; a < d; a++) s += W[wo + a] * X[xo + a];
      logits[j * K + c] = s;
    }
  }
  // The NLL is convex in b = 1/T: f'(b) = Σ (E_p[z] - z_y), f''(b) = Σ Var_p[z] (p = softmax(b z)). Newton's
  // method on b, kept inside a shrinking bracket of [1/20, 1/0.05] (bisection when a step leaves it): a few
  // passes over the held-out logits instead of a 1-D search's dozens.
  const n = rows.length;
  const derivs = (b: number): [number, number] => {
    let g = 0, h = 0;
    for (let j = 0; j < n; j++) {
      const o = j * K;
      let zmax = -Infinity;
      for (let c = 0; c < K; c++) if (logits[o + c] > zmax) zmax = logits[o + c];
      let sum = 0, m1 = 0, m2 = 0;
      for (let c = 0; c < K; c++) {
        const z = logits[o + c] - zmax, e = Math.exp(b * z);
        sum += e; m1 += e * z; m2 += e * z * z;
      }
      const mean = m1 / sum;
      g += mean - (logits[o + y[j]] - zmax);
      h += Math.max(0, m2 / sum - mean * mean);
    }
    return [g, h];
  };
  let lo = 1 / 20, hi = 1 / 0.05, b = 1;
  for (let it = 0; it < 100; it++) {
    const [g, h] = derivs(b);
    if (g > 0) hi = b; else if (g < 0) lo = b; else break;
    let next = h > 0 ? b - g / h : NaN;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    const done = Math.abs(next - b) <= 1e-9 * b || hi - lo <= 1e-9 * b;
    b = next;
    if (done) break;
  }
  return 1 / b;
}
