// Worker (piscina) for label propagation: the kNN graph (split in row ranges over threads, written into
// shared arrays) and the propagation itself. See propagate.ts.
import { knnRange, propagateCrossFitted, type CrossFitted, type Seeds } from './propagate.ts';

export type PropagateTask =
  | { kind: 'knn'; features: SharedArrayBuffer; n: number; d: number; k: number; lo: number; hi: number; nb: SharedArrayBuffer; w: SharedArrayBuffer }
  | { kind: 'propagate'; nb: SharedArrayBuffer; w: SharedArrayBuffer; n: number; k: number; K: number; seeds: Seeds; fold: Int8Array; warm: [Float32Array, Float32Array] | null; masked: [number, number[]][] };

export default function run(task: PropagateTask): CrossFitted | number {
  const t0 = performance.now();
  if (task.kind === 'knn') {
    knnRange(new Float32Array(task.features), task.n, task.d, task.k, task.lo, task.hi, new Int32Array(task.nb), new Float32Array(task.w));
    return performance.now() - t0;
  }
  const g = { n: task.n, k: task.k, nb: new Int32Array(task.nb), w: new Float32Array(task.w) };
  return propagateCrossFitted(g, task.K, task.seeds, task.fold, { warm: task.warm, masked: new Map(task.masked) });
}
