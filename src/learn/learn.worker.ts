// Worker (piscina) for the learning loop's heavy work: PCA features, clustering, classifier training and
// prediction. Inputs arrive as SharedArrayBuffers (not copied); outputs are small or transferred.
import { fitPca, project, sampleIndices } from './linalg.ts';
import { clusterRows, type ClusterOptions, type ClusterOut } from './cluster.ts';
import { fitTemperature, predictAll, trainLogReg, type Model, type Predictions, type TrainSet } from './classifier.ts';

export const CLUSTER_DIM = 32;
export const CLASSIFIER_DIM = 48;

export type LearnTask =
  | { kind: 'features'; embeddings: SharedArrayBuffer; n: number; dim: number }
  | { kind: 'cluster'; features: SharedArrayBuffer; n: number; d: number; rows: Int32Array; opts: ClusterOptions }
  | { kind: 'train'; features: SharedArrayBuffer; n: number; d: number; K: number; set: TrainSet; warm: Model | null; calibrate: boolean; masked: [number, number[]][] };

export interface FeaturesOut { cluster: SharedArrayBuffer; clusterDim: number; classify: SharedArrayBuffer; classifyDim: number }
export interface TrainOut { model: Model; predictions: Predictions; ms: number }

export function features(embeddings: Float32Array, n: number, dim: number): FeaturesOut {
  const rows = sampleIndices(n, Math.min(n, 4000), 11);
  const kMax = Math.max(1, Math.min(CLASSIFIER_DIM, dim, n - 1));
  const pca = fitPca(embeddings, dim, rows, kMax);
  const kc = Math.min(CLUSTER_DIM, pca.k);
  const cluster = new SharedArrayBuffer(n * kc * 4);
  const sub = { ...pca, k: kc, components: pca.components.subarray(0, kc * dim), variances: pca.variances.subarray(0, kc) };
  project(sub, embeddings, n, { whiten: true, normalize: true }, new Float32Array(cluster));
  const classify = new SharedArrayBuffer(n * pca.k * 4);
  project(pca, embeddings, n, { whiten: true, normalize: true }, new Float32Array(classify));
  // unit rows scaled so that a coordinate has about unit variance (keeps gradient steps well sized)
  const C = new Float32Array(classify);
  const s = Math.sqrt(pca.k);
  for (let i = 0; i < C.length; i++) C[i] *= s;
  return { cluster, clusterDim: kc, classify, classifyDim: pca.k };
}

export function clusterSubset(F: Float32Array, d: number, rows: Int32Array, opts: ClusterOptions): ClusterOut {
  const sub = new Float32Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) sub.set(F.subarray(rows[i] * d, rows[i] * d + d), i * d);
  return clusterRows(sub, rows.length, d, opts);
}

export function train(X: Float32Array, n: number, d: number, K: number, set: TrainSet, warm: Model | null, calibrate: boolean, masked: Map<number, number[]>): TrainOut {
  const t0 = performance.now();
  let temperature = warm?.temperature ?? 1;
  if (calibrate && set.rows.length >= 40) {
    // hold out every 5th positive to fit the temperature, then train on everything (warm started)
    const tr: number[] = [], ho: number[] = [];
    for (let i = 0; i < set.rows.length; i++) (i % 5 === 4 ? ho : tr).push(i);
    const part: TrainSet = { rows: Int32Array.from(tr, (i) => set.rows[i]), y: Int32Array.from(tr, (i) => set.y[i]), negRows: set.negRows, negY: set.negY, pw: set.pw ? Float32Array.from(tr, (i) => set.pw![i]) : undefined };
    const m = trainLogReg(X, d, K, part, { warm });
    temperature = fitTemperature(X, m, Int32Array.from(ho, (i) => set.rows[i]), Int32Array.from(ho, (i) => set.y[i]));
    warm = m;
  }
  const model = trainLogReg(X, d, K, set, { warm });
  model.temperature = temperature;
  const predictions = predictAll(X, n, model, (row) => masked.get(row));
  return { model, predictions, ms: performance.now() - t0 };
}

export default function run(task: LearnTask): unknown {
  switch (task.kind) {
    case 'features': return features(new Float32Array(task.embeddings), task.n, task.dim);
    case 'cluster': return clusterSubset(new Float32Array(task.features), task.d, task.rows, task.opts);
    case 'train': return train(new Float32Array(task.features), task.n, task.d, task.K, task.set, task.warm, task.calibrate, new Map(task.masked));
  }
}
