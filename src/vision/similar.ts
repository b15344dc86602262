// Nearest neighbours by cosine similarity (vectors are L2-normalised, so a dot product).
import type { EmbeddingMatrix } from './store.ts';

export interface Neighbour { photoId: number; score: number }

export function nearest(m: EmbeddingMatrix, q: Float32Array, k: number, exclude?: number): Neighbour[] {
  if (q.length !== m.dim) throw new Error(`query has ${q.length} dimensions, the model set ${m.modelSet} has ${m.dim}`);
  const n = m.ids.length, d = m.dim, data = m.data;
  const best: Neighbour[] = [];
  let worst = -Infinity;
  for (let i = 0; i < n; i++) {
    if (m.ids[i] === exclude) continue;
    let s = 0;
    const o = i * d;
    for (let j = 0; j < d; j++) s += data[o + j] * q[j];
    if (best.length < k || s > worst) {
      best.push({ photoId: m.ids[i], score: s });
      if (best.length > k) { best.sort((a, b) => b.score - a.score); best.length = k; }
      worst = best.length === k ? Math.min(...best.map((b) => b.score)) : -Infinity;
    }
  }
  return best.sort((a, b) => b.score - a.score);
}
