// Small dense linear algebra for the learning loop: PCA (whitening) by subspace iteration on the covariance
// of a sample, projections, cosine helpers. Float32 row-major matrices throughout.

export interface Pca {
  dim: number;            // input dimension
  k: number;              // output dimension
  mean: Float32Array;     // dim
  /** k × dim, rows are unit principal axes, largest variance first */
  components: Float32Array;
  /** k variances along the axes */
  variances: Float64Array;
}

/** Deterministic PRNG so that clustering and sampling are reproducible. */
export { mulberry32 as rng } from '../util/random.ts';
import { mulberry32 as rng } from '../util/random.ts';

/** `m` distinct indices of [0, n), sorted (all of them when m >= n). */
export function sampleIndices(n: number, m: number, seed = 1): Int32Array {
  if (m >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const r = rng(seed);
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(r() * (n - i));
    const t = idx[i]; idx[i] = idx[j]; idx[j] = t;
  }
  return idx.subarray(0, m).sort();
}

/** PCA of the rows `rows` of X (n × dim) keeping k axes. */
export function fitPca(X: Float32Array, dim: number, rows: Int32Array, k: number, iters = 12): Pca {
  const m = rows.length;
  k = Math.max(1, Math.min(k, dim, Math.max(1, m - 1)));
  const mean = new Float64Array(dim);
  for (const r of rows) { const o = r * dim; for (let j = 0; j < dim; j++) mean[j] += X[o + j]; }
  for (let j = 0; j < dim; j++) mean[j] /= Math.max(1, m);
  // covariance (dim × dim, upper triangle then mirrored)
  const C = new Float64Array(dim * dim);
  const x = new Float64Array(dim);
  for (const r of rows) {
    const o = r * dim;
    for (let j = 0; j < dim; j++) x[j] = X[o + j] - mean[j];
    for (let a = 0; a < dim; a++) {
      const xa = x[a];
      if (xa === 0) continue;
      const ro = a * dim;
      for (let b = a; b < dim; b++) C[ro + b] += xa * x[b];
    }
  }
  const denom = Math.max(1, m - 1);
  for (let a = 0; a < dim; a++) for (let b = a; b < dim; b++) { const v = C[a * dim + b] / denom; C[a * dim + b] = v; C[b * dim + a] = v; }
  // subspace iteration: Q (dim × k, column-major as k vectors)
  const r = rng(7);
  let Q: Float64Array[] = Array.from({ length: k }, () => Float64Array.from({ length: dim }, () => r() - 0.5));
  orthonormalize(Q);
  for (let it = 0; it < iters; it++) {
    Q = Q.map((q) => matVec(C, dim, q));
    orthonormalize(Q);
  }
  // Rayleigh-Ritz: small k × k eigenproblem to rotate Q to the eigenvectors
  const CQ = Q.map((q) => matVec(C, dim, q));
  const T = new Float64Array(k * k);
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) T[a * k + b] = dot64(Q[a], CQ[b]);
  const { values, vectors } = jacobiEigen(T, k);
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => values[b] - values[a]);
  const components = new Float32Array(k * dim);
  const variances = new Float64Array(k);
  order.forEach((src, dst) => {
    variances[dst] = Math.max(values[src], 0);
    for (let j = 0; j < dim; j++) {
      let s = 0;
      for (let a = 0; a < k; a++) s += vectors[a * k + src] * Q[a][j];
      components[dst * dim + j] = s;
    }
  });
  return { dim, k, mean: Float32Array.from(mean), components, variances };
}

/**
 * Projects every row of X onto the PCA axes (captured[i] = share of the row's centred energy the axes keep). whiten: divide each axis by sqrt(variance + eps);
 * normalize: scale each output row to unit length (for cosine geometry).
 */
export function project(p: Pca, X: Float32Array, n: number, opts: { whiten: boolean; normalize: boolean; whitenShrink?: number }, out?: Float32Array, captured?: Float32Array): Float32Array {
  const { dim, k, mean, components } = p;
  const Y = out ?? new Float32Array(n * k);
  const scale = new Float32Array(k);
  // regularised whitening: the shrinkage term (mean variance of the kept axes) keeps weak, noisy axes
  // from being blown up to the size of the strong ones
  let meanVar = 0;
  for (let a = 0; a < k; a++) meanVar += p.variances[a] / k;
  const eps = opts.whitenShrink !== undefined ? opts.whitenShrink * meanVar : meanVar;
  for (let a = 0; a < k; a++) scale[a] = opts.whiten ? 1 / Math.sqrt(p.variances[a] + eps + 1e-12) : 1;
  // mean-centring folded in: y_a = c_a·x - c_a·mean
  const offs = new Float32Array(k);
  for (let a = 0; a < k; a++) { let s = 0; for (let j = 0; j < dim; j++) s += components[a * dim + j] * mean[j]; offs[a] = s; }
  for (let i0 = 0; i0 < n; i0 += 4) {
    const m = Math.min(4, n - i0);
    const o0 = i0 * dim, o1 = (i0 + Math.min(1, m - 1)) * dim, o2 = (i0 + Math.min(2, m - 1)) * dim, o3 = (i0 + Math.min(3, m - 1)) * dim;
    for (let a = 0; a < k; a++) {
      const co = a * dim;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let j = 0; j < dim; j++) {
        const c = components[co + j];
        s0 += c * X[o0 + j]; s1 += c * X[o1 + j]; s2 += c * X[o2 + j]; s3 += c * X[o3 + j];
      }
      const off = offs[a];
      Y[i0 * k + a] = s0 - off;
      if (m > 1) Y[(i0 + 1) * k + a] = s1 - off;
      if (m > 2) Y[(i0 + 2) * k + a] = s2 - off;
      if (m > 3) Y[(i0 + 3) * k + a] = s3 - off;
    }
    for (let r = 0; r < m; r++) {
      const i = i0 + r, o = i * dim;
      let total = 0;
      if (captured) { for (let j = 0; j < dim; j++) { const x = X[o + j] - mean[j]; total += x * x; } }
      let norm = 0, cap = 0;
      for (let a = 0; a < k; a++) { const v = Y[i * k + a]; cap += v * v; const w = v * scale[a]; Y[i * k + a] = w; norm += w * w; }
      if (captured) captured[i] = total > 0 ? cap / total : 1;
      if (opts.normalize) {
        const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
        for (let a = 0; a < k; a++) Y[i * k + a] *= inv;
      }
    }
  }
  return Y;
}

export function normalizeRows(Y: Float32Array, n: number, d: number): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let a = 0; a < d; a++) s += Y[i * d + a] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let a = 0; a < d; a++) Y[i * d + a] *= inv;
  }
}

export function dotRows(A: Float32Array, i: number, B: Float32Array, j: number, d: number): number {
  let s = 0;
  const ao = i * d, bo = j * d;
  for (let a = 0; a < d; a++) s += A[ao + a] * B[bo + a];
  return s;
}

function matVec(C: Float64Array, dim: number, q: Float64Array): Float64Array {
  const out = new Float64Array(dim);
  for (let a = 0; a < dim; a++) {
    let s = 0;
    const ro = a * dim;
    for (let b = 0; b < dim; b++) s += C[ro + b] * q[b];
    out[a] = s;
  }
  return out;
}

function dot64(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function orthonormalize(Q: Float64Array[]): void {
  for (let a = 0; a < Q.length; a++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let b = 0; b < a; b++) {
        const d = dot64(Q[a], Q[b]);
        for (let j = 0; j < Q[a].length; j++) Q[a][j] -= d * Q[b][j];
      }
    }
    let n = Math.sqrt(dot64(Q[a], Q[a]));
    if (n < 1e-12) { Q[a].fill(0); Q[a][a % Q[a].length] = 1; n = 1; }
    for (let j = 0; j < Q[a].length; j++) Q[a][j] /= n;
  }
}

/** Cyclic Jacobi for a small symmetric matrix (k × k). vectors[:, i] is the eigenvector of values[i]. */
function jacobiEigen(A0: Float64Array, k: number): { values: Float64Array; vectors: Float64Array } {
  const A = Float64Array.from(A0);
  const V = new Float64Array(k * k);
  for (let i = 0; i < k; i++) V[i * k + i] = 1;
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) off += A[p * k + q] ** 2;
    if (off < 1e-18) break;
    for (let p = 0; p < k; p++) {
      for (let q = p + 1; q < k; q++) {
        const apq = A[p * k + q];
        if (Math.abs(apq) < 1e-30) continue;
        const theta = (A[q * k + q] - A[p * k + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let r = 0; r < k; r++) {
          const arp = A[r * k + p], arq = A[r * k + q];
          A[r * k + p] = c * arp - s * arq;
          A[r * k + q] = s * arp + c * arq;
        }
        for (let r = 0; r < k; r++) {
          const apr = A[p * k + r], aqr = A[q * k + r];
          A[p * k + r] = c * apr - s * aqr;
          A[q * k + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < k; r++) {
          const vrp = V[r * k + p], vrq = V[r * k + q];
          V[r * k + p] = c * vrp - s * vrq;
          V[r * k + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const values = new Float64Array(k);
  for (let i = 0; i < k; i++) values[i] = A[i * k + i];
  return { values, vectors: V };
}
