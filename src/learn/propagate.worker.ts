// Worker (piscina) for label propagation: the kNN graph (split in row ranges over threads, written into
// shared arrays) and the propagation itself. See propagate.ts.
import { knnRange, propagate, type Propagated, type Seeds } from './propagate.ts';

export type PropagateTask =
  | { kind: 'knn'; features: SharedArrayBuffer; n: number; d: number; k: number; lo: number; hi: number; nb: SharedArrayBuffer; w: SharedArrayBuffer }
  | { kind: 'propagate'; nb: SharedArrayBuffer; w: SharedArrayBuffer; n: number; k: number; K: number; seeds: Seeds; warm: Float32Array | null; masked: [number, number[]][] };

export default function run(task: PropagateTask): Propagated | number {
  const t0 = performance.now();
  if (task.kind === 'knn') {
    knnRange(new Float32Array(task.features), task.n, task.d, task.k, task.lo, task.hi, new Int32Array(task.nb), new Float32Array(task.w));
    return performance.now() - t0;
  }
  const g = { n: task.n, k: task.k, nb: new Int32Array(task.nb), w: new Float32Array(task.w) };
  return propagate(g, task.K, task.seeds, { warm: task.warm, masked: new Map(task.masked) });
}
