// Worker (piscina) for the learning loop's heavy work: PCA features, clustering, classifier training and
// prediction. Inputs arrive as SharedArrayBuffers (not copied); outputs are small or transferred.
import { fitPca, project, sampleIndices } from './linalg.ts';
import { clusterRows, type ClusterOptions, type ClusterOut } from './cluster.ts';
import { fitTemperature, predictAll, trainLogReg, type Model, type Predictions, type TrainOptions, type TrainSet } from './classifier.ts';
import { onnxKernels, predictOnnx, trainLogRegOnnx, warmPredict } from './onnx-kernels.ts';

export const CLUSTER_DIM = 32;
export const CLASSIFIER_DIM = Number(process.env.SIFT_CLASSIFIER_DIM ?? 48);
/** regularised whitening: axis scale 1/sqrt(var + WHITEN_SHRINK × mean var); 0 = full whitening, large = none */
export const WHITEN_SHRINK = Number(process.env.SIFT_WHITEN_SHRINK ?? 4);

export type LearnTask =
  | { kind: 'features'; embeddings: SharedArrayBuffer; n: number; dim: number }
  | { kind: 'cluster'; features: SharedArrayBuffer; captured: SharedArrayBuffer; n: number; d: number; rows: Int32Array; opts: ClusterOptions }
  | { kind: 'train'; features: SharedArrayBuffer; n: number; d: number; K: number; set: TrainSet; warm: Model | null; calibrate: boolean; masked: [number, number[]][] }
  | { kind: 'fit'; features: SharedArrayBuffer; d: number; K: number; set: TrainSet; warm: Model | null; calibrate: boolean }
  | { kind: 'predict'; features: SharedArrayBuffer; featuresKey: string; d: number; lo: number; hi: number; fitted: Fitted; masked: [number, number[]][];
      out: { best: SharedArrayBuffer; prob: SharedArrayBuffer; margin: SharedArrayBuffer } }
  | { kind: 'warm'; features: SharedArrayBuffer; featuresKey: string; d: number; rows: number; K: number }
  | { kind: 'retrain'; features: SharedArrayBuffer; featuresKey: string; n: number; d: number; K: number; set: TrainSet; warm: Model | null; calibrate: boolean;
      masked: [number, number[]][]; out: { best: SharedArrayBuffer; prob: SharedArrayBuffer; margin: SharedArrayBuffer } };

/** 'retrain': the fitted model and, when this thread predicted every row (ONNX kernels), the prediction time */
export interface RetrainOut { fitted: Fitted; predicted: boolean; predictMs: number }

export interface FeaturesOut { cluster: SharedArrayBuffer; clusterDim: number; captured: SharedArrayBuffer; classify: SharedArrayBuffer; classifyDim: number }
export interface TrainOut { model: Model; predictions: Predictions; ms: number }

export function features(embeddings: Float32Array, n: number, dim: number): FeaturesOut {
  const rows = sampleIndices(n, Math.min(n, 2500), 11);
  const kMax = Math.max(1, Math.min(CLASSIFIER_DIM, dim, n - 1));
  const pca = fitPca(embeddings, dim, rows, kMax);
  const k = pca.k;
  // one projection (raw coordinates on the k axes); both feature sets are derived from it
  const raw = new Float32Array(n * k);
  const captured = new SharedArrayBuffer(n * 4);
  project(pca, embeddings, n, { whiten: false, normalize: false }, raw, new Float32Array(captured));
  const kc = Math.min(CLUSTER_DIM, k);
  const cluster = new SharedArrayBuffer(n * kc * 4);
  whitenRows(raw, n, k, kc, pca.variances, new Float32Array(cluster), 1);
  // classifier rows: unit length scaled by sqrt(k), so a coordinate has about unit variance
  const classify = new SharedArrayBuffer(n * k * 4);
  whitenRows(raw, n, k, k, pca.variances, new Float32Array(classify), Math.sqrt(k));
  return { cluster, clusterDim: kc, captured, classify, classifyDim: k };
}

/** Regularised whitening of the first kOut of k raw coordinates, then unit length × scale. */
function whitenRows(raw: Float32Array, n: number, k: number, kOut: number, variances: Float64Array, out: Float32Array, scale: number): void {
  let meanVar = 0;
  for (let a = 0; a < kOut; a++) meanVar += variances[a] / kOut;
  const w = new Float32Array(kOut);
  for (let a = 0; a < kOut; a++) w[a] = 1 / Math.sqrt(variances[a] + WHITEN_SHRINK * meanVar + 1e-12);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let a = 0; a < kOut; a++) { const v = raw[i * k + a] * w[a]; out[i * kOut + a] = v; norm += v * v; }
    const inv = norm > 0 ? scale / Math.sqrt(norm) : 0;
    for (let a = 0; a < kOut; a++) out[i * kOut + a] *= inv;
  }
}

export function clusterSubset(F: Float32Array, captured: Float32Array, d: number, rows: Int32Array, opts: ClusterOptions): ClusterOut {
  const sub = new Float32Array(rows.length * d);
  const cap = new Float32Array(rows.length);
  for (let i = 0; i < rows.length; i++) { sub.set(F.subarray(rows[i] * d, rows[i] * d + d), i * d); cap[i] = captured[rows[i]]; }
  return clusterRows(sub, rows.length, d, { ...opts, exclude: outOfSubspace(cap) });
}

/**
 * Rows whose embedding the PCA axes barely describe (captured energy under half the median) are unlike
 * the library: after normalisation their projections would look alike and form a fake cluster. They stay
 * unclustered.
 */
export function outOfSubspace(captured: Float32Array): Uint8Array {
  const sorted = Float32Array.from(captured).sort();
  const med = sorted[Math.floor(sorted.length / 2)] ?? 0;
  return Uint8Array.from(captured, (c) => (c < 0.5 * med ? 1 : 0));
}

/** A trained model (with its cross-fitted twin), the rows the twin predicts and the open-set gate's data. */
export interface Fitted {
  model: Model;
  /** rows predicted by model.twin (the fold-0 cluster-assigned photos), ascending */
  twinRows: Int32Array;
  gate: { cent: Float64Array; radius: Float64Array; cap: number };
  ms: number;
}

/** 'onnx': the ONNX kernels (onnx-kernels.ts) when onnxruntime works, else JS; 'js': the JS reference kernels. */
export type Kernel = 'onnx' | 'js';

type Trainer = (X: Float32Array, d: number, K: number, set: TrainSet, opts: TrainOptions) => Promise<Model> | Model;

async function trainer(kernel: Kernel): Promise<Trainer> {
  const k = kernel === 'onnx' ? await onnxKernels() : null;
  return k ? (X, d, K, set, opts) => trainLogRegOnnx(k.grad, X, d, K, set, opts) : trainLogReg;
}

/**
 * Trains. Cluster-assigned photos (pw < 1) are noisy labels; a model trained on a photo agrees with it, so
 * it could never flag a wrong assignment. Cross-fitting: the assigned photos are split in two folds; model A
 * learns confirmed + fold 0, model B confirmed + fold 1; fold-0 photos are predicted by B, every other photo
 * by A (see predictRange).
 */
export async function fit(X: Float32Array, d: number, K: number, set: TrainSet, warm: Model | null, calibrate: boolean, gateCap = 0.49, kernel: Kernel = 'onnx'): Promise<Fitted> {
  const t0 = performance.now();
  const trainLR = await trainer(K >= 2 ? kernel : 'js');
  const m = set.rows.length;
  let nAssigned = 0;
  if (set.pw) for (let i = 0; i < m; i++) if (set.pw[i] < 1) nAssigned++;
  const crossFit = nAssigned >= 10;
  // fold of each positive: -1 = confirmed (both models learn it), 0 / 1 = alternate cluster-assigned photos
  const fold = new Int8Array(m).fill(-1);
  if (crossFit) for (let i = 0, j = 0; i < m; i++) if (set.pw![i] < 1) fold[i] = (j++) % 2;
  /** the positives whose fold is not `skip` (typed-array loops: this runs over every labelled photo) */
  const pick = (skip: number): TrainSet => {
    let cnt = 0;
    for (let i = 0; i < m; i++) if (fold[i] !== skip) cnt++;
    const rows = new Int32Array(cnt), y = new Int32Array(cnt), pw = set.pw ? new Float32Array(cnt) : undefined;
    for (let i = 0, j = 0; i < m; i++) {
      if (fold[i] === skip) continue;
      rows[j] = set.rows[i]; y[j] = set.y[i]; if (pw) pw[j] = set.pw![i]; j++;
    }
    return { rows, y, negRows: set.negRows, negY: set.negY, pw };
  };
  const setA = crossFit ? pick(1) : set;
  let temperature = warm?.temperature ?? 1;
  let warmA = warm;
  if (calibrate && setA.rows.length >= 40) {
    // hold out every 5th positive to fit the temperature, then train on everything (warm started)
    const tr: number[] = [], ho: number[] = [];
    for (let i = 0; i < setA.rows.length; i++) (i % 5 === 4 ? ho : tr).push(i);
    const part: TrainSet = { rows: Int32Array.from(tr, (i) => setA.rows[i]), y: Int32Array.from(tr, (i) => setA.y[i]), negRows: setA.negRows, negY: setA.negY,
      pw: setA.pw ? Float32Array.from(tr, (i) => setA.pw![i]) : undefined };
    const m = await trainLR(X, d, K, part, { warm });
    temperature = fitTemperature(X, m, Int32Array.from(ho, (i) => setA.rows[i]), Int32Array.from(ho, (i) => setA.y[i]));
    warmA = m;
  }
  const model = await trainLR(X, d, K, setA, { warm: warmA });
  model.temperature = temperature;
  let twinRows = new Int32Array(0);
  if (crossFit) {
    const twin = await trainLR(X, d, K, pick(0), { warm: warm?.twin ?? warm });
    twin.temperature = temperature;
    model.twin = twin;
    const t = new Int32Array(m);
    let c = 0;
    for (let i = 0; i < m; i++) if (fold[i] === 0) t[c++] = set.rows[i];
    const sorted = t.subarray(0, c).sort();
    // distinct rows, ascending
    let u = 0;
    for (let i = 0; i < c; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[u++] = sorted[i];
    twinRows = sorted.slice(0, u);
  }
  return { model, twinRows, gate: { ...gateFit(X, d, K, set), cap: gateCap }, ms: performance.now() - t0 };
}

/**
 * Predicts rows [lo, hi) with a fitted model into `out` (arrays over all rows; shared between the threads
 * that predict the other ranges): model A, then the twin for its rows, then the open-set gate.
 */
export async function predictRange(X: Float32Array, d: number, lo: number, hi: number, f: Fitted, masked: Map<number, number[]>, out: Predictions, kernel: Kernel = 'onnx'): Promise<void> {
  const k = kernel === 'onnx' && f.model.K >= 2 ? await onnxKernels() : null;
  const twin = f.model.twin;
  const rows = twin ? f.twinRows.filter((r) => r >= lo && r < hi) : new Int32Array(0);
  const sub = new Float32Array(rows.length * d);
  rows.forEach((r, j) => sub.set(X.subarray(r * d, r * d + d), j * d));
  if (k) {
    await predictOnnx(k.predict, X.subarray(lo * d, hi * d), hi - lo, d, f.model, f.gate, (j) => lo + j, (j) => masked.get(lo + j), out);
    if (twin) await predictOnnx(k.predict, sub, rows.length, d, twin, f.gate, (j) => rows[j], (j) => masked.get(rows[j]), out);
    return;
  }
  const pa = predictAll(X.subarray(lo * d, hi * d), hi - lo, f.model, (j) => masked.get(lo + j));
  out.best.set(pa.best, lo); out.prob.set(pa.prob, lo); out.margin.set(pa.margin, lo);
  if (twin) {
    const pb = predictAll(sub, rows.length, twin, (j) => masked.get(rows[j]));
    rows.forEach((r, j) => { out.best[r] = pb.best[j]; out.prob[r] = pb.prob[j]; out.margin[r] = pb.margin[j]; });
  }
  gateApply(X, d, lo, hi, f.gate, out);
}

/** fit + predict every row (one thread) */
export async function train(X: Float32Array, n: number, d: number, K: number, set: TrainSet, warm: Model | null, calibrate: boolean, masked: Map<number, number[]>, gateCap = 0.49, kernel: Kernel = 'onnx'): Promise<TrainOut> {
  const t0 = performance.now();
  const f = await fit(X, d, K, set, warm, calibrate, gateCap, kernel);
  const predictions: Predictions = { best: new Int32Array(n), prob: new Float32Array(n), margin: new Float32Array(n) };
  await predictRange(X, d, 0, n, f, masked, predictions, kernel);
  return { model: f.model, predictions, ms: performance.now() - t0 };
}

/**
 * Open-set gate: logistic regression is confident far away from every example too. A row less similar to
 * its predicted class's centroid than nearly all of that class's own examples (2nd percentile) gets its
 * confidence capped under the suggestion threshold ('unknown'), so unseen kinds of photos are not
 * swallowed by the labels that happen to exist.
 */
function gateFit(X: Float32Array, d: number, K: number, set: TrainSet): { cent: Float64Array; radius: Float64Array } {
  // the examples grouped by class (counting sort)
  const m = set.rows.length;
  const start = new Int32Array(K + 1);
  for (let i = 0; i < m; i++) start[set.y[i] + 1]++;
  for (let c = 0; c < K; c++) start[c + 1] += start[c];
  const pos = start.slice(0, K);
  const order = new Int32Array(m);
  for (let i = 0; i < m; i++) order[pos[set.y[i]]++] = set.rows[i];
  // unit centroids: each class's rows summed 4 at a time (this runs over every labelled photo at every retrain)
  const cent = new Float64Array(K * d);
  const acc = new Float64Array(d);
  for (let c = 0; c < K; c++) {
    acc.fill(0);
    let i = start[c];
    for (; i + 4 <= start[c + 1]; i += 4) {
      const o0 = order[i] * d, o1 = order[i + 1] * d, o2 = order[i + 2] * d, o3 = order[i + 3] * d;
      for (let a = 0; a < d; a++) acc[a] += (X[o0 + a] + X[o1 + a]) + (X[o2 + a] + X[o3 + a]);
    }
    for (; i < start[c + 1]; i++) { const o = order[i] * d; for (let a = 0; a < d; a++) acc[a] += X[o + a]; }
    let s = 0;
    for (let a = 0; a < d; a++) s += acc[a] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let a = 0; a < d; a++) cent[c * d + a] = acc[a] * inv;
  }
  // radius: the 2nd percentile of the class's own examples' similarity to its centroid
  const sims = new Float64Array(m);
  for (let c = 0; c < K; c++) for (let i = start[c]; i < start[c + 1]; i++) sims[i] = cosTo(X, d, cent, order[i], c);
  const radius = new Float64Array(K);
  for (let c = 0; c < K; c++) {
    const v = sims.subarray(start[c], start[c + 1]).sort();
    radius[c] = v.length >= 20 ? v[Math.floor(0.02 * (v.length - 1))] : -Infinity;
  }
  return { cent, radius };
}

function cosTo(X: Float32Array, d: number, cent: Float64Array, row: number, c: number): number {
  let s = 0, q = 0;
  const o = row * d;
  for (let a = 0; a < d; a++) { s += X[o + a] * cent[c * d + a]; q += X[o + a] ** 2; }
  return q > 0 ? s / Math.sqrt(q) : 0;
}

function gateApply(X: Float32Array, d: number, lo: number, hi: number, g: Fitted['gate'], pr: Predictions): void {
  for (let row = lo; row < hi; row++) {
    const c = pr.best[row];
    if (c < 0) continue;
    if (pr.prob[row] > g.cap && cosTo(X, d, g.cent, row, c) < g.radius[c]) pr.prob[row] = g.cap;
  }
}

/**
 * onnxruntime takes ArrayBuffer-backed tensors only: each thread keeps one private copy of the current
 * feature matrix (by the service's features key), made once per features version, not once per retrain.
 */
let local: { key: string; X: Float32Array } | null = null;
function localFeatures(sab: SharedArrayBuffer, key: string): Float32Array {
  if (local?.key !== key || local.X.length * 4 !== sab.byteLength) local = { key, X: new Float32Array(sab).slice() };
  return local.X;
}

export default async function run(task: LearnTask): Promise<unknown> {
  switch (task.kind) {
    case 'features': return features(new Float32Array(task.embeddings), task.n, task.dim);
    case 'cluster': return clusterSubset(new Float32Array(task.features), new Float32Array(task.captured), task.d, task.rows, task.opts);
    case 'train': return train(new Float32Array(task.features), task.n, task.d, task.K, task.set, task.warm, task.calibrate, new Map(task.masked));
    case 'fit': return fit(new Float32Array(task.features), task.d, task.K, task.set, task.warm, task.calibrate);
    case 'warm': {
      // what a thread's first prediction would otherwise pay for: the onnxruntime sessions and the features copy
      const k = await onnxKernels();
      if (k) await warmPredict(k.predict, localFeatures(task.features, task.featuresKey), task.rows, task.d, task.K);
      return null;
    }
    case 'retrain': {
      // fit, then (ONNX kernels) predict every row in this same thread: one dispatch, and no second thread
      // that must be started or warmed first (the pool's second thread leaves after 10 s idle)
      const fitted = await fit(new Float32Array(task.features), task.d, task.K, task.set, task.warm, task.calibrate);
      if (task.K < 2 || !(await onnxKernels())) return { fitted, predicted: false, predictMs: 0 } satisfies RetrainOut;
      const t0 = performance.now();
      const o = task.out;
      await predictRange(localFeatures(task.features, task.featuresKey), task.d, 0, task.n, fitted, new Map(task.masked),
        { best: new Int32Array(o.best), prob: new Float32Array(o.prob), margin: new Float32Array(o.margin) });
      return { fitted, predicted: true, predictMs: performance.now() - t0 } satisfies RetrainOut;
    }
    case 'predict': {
      const t0 = performance.now();
      const o = task.out;
      const X = localFeatures(task.features, task.featuresKey);
      if (process.env.SIFT_LEARN_DEBUG) process.stderr.write(`predict ${task.lo}-${task.hi}: features copy ${(performance.now() - t0).toFixed(1)} ms\n`);
      await predictRange(X, task.d, task.lo, task.hi, task.fitted, new Map(task.masked),
        { best: new Int32Array(o.best), prob: new Float32Array(o.prob), margin: new Float32Array(o.margin) });
      if (process.env.SIFT_LEARN_DEBUG) process.stderr.write(`predict ${task.lo}-${task.hi}: ${(performance.now() - t0).toFixed(1)} ms\n`);
      return performance.now() - t0;
    }
  }
}
