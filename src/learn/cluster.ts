// Clustering of (unit-length, PCA-whitened) feature rows that chooses the number of clusters itself:
//   1. average-linkage agglomerative clustering (nearest-neighbour chain, O(m²)) of a sample of m rows,
//      cosine distance;
//   2. the dendrogram is cut at the level with the best silhouette, where clusters smaller than
//      minClusterSize count as outliers (silhouette 0), so outliers are not forced into clusters;
//   3. every row (sample or not) is assigned to the nearest centroid, refined by two Lloyd steps; a row
//      less similar to its centroid than the cluster's own low quantile stays unclustered (-1);
//   4. a row that is also within the acceptance radius of a second cluster is marked as a border row.
import { sampleIndices } from './linalg.ts';

export interface ClusterOptions {
  /** Rows clustered exactly; the rest are assigned. */
  sampleSize?: number;
  minClusterSize?: number;
  maxClusters?: number;
  /** Prefer finer cuts: the chosen cut is the finest whose score is >= preferFiner × best score. */
  preferFiner?: number;
  /** rows flagged 1 are never sampled and stay unclustered (-1) */
  exclude?: Uint8Array;
  /** Below this best silhouette the data is taken as one cluster. */
  minSilhouette?: number;
  /** Quantile of member similarity under which a row is an outlier of its cluster. */
  outlierQuantile?: number;
  seed?: number;
}

export interface ClusterOut {
  /** cluster index per row, -1 = unclustered */
  assign: Int32Array;
  /** similarity of each row to its nearest centroid */
  similarity: Float32Array;
  /** 1 when the row is also within the radius of another cluster */
  border: Uint8Array;
  clusters: { size: number; cohesion: number; representatives: number[]; centroid: Float32Array }[];
  /** diagnostics */
  info: { sample: number; cutClusters: number; silhouette: number };
}

export function clusterRows(F: Float32Array, n: number, d: number, opts: ClusterOptions = {}): ClusterOut {
  if (n === 0) return { assign: new Int32Array(0), similarity: new Float32Array(0), border: new Uint8Array(0), clusters: [], info: { sample: 0, cutClusters: 0, silhouette: 0 } };
  const sampleSize = opts.sampleSize ?? 2000;
  const ex = opts.exclude && opts.exclude.reduce((a, b) => a + (b ? 0 : 1), 0) >= 2 ? opts.exclude : undefined;
  const eligible = ex ? Int32Array.from({ length: n }, (_, i) => i).filter((i) => !ex[i]) : null;
  const S0 = sampleIndices(eligible ? eligible.length : n, Math.min(eligible ? eligible.length : n, sampleSize), opts.seed ?? 1);
  const S = eligible ? S0.map((i) => eligible[i]) : S0;
  const m = S.length;
  const minSize = opts.minClusterSize ?? Math.max(4, Math.round(m * 0.01));
  const maxK = Math.min(opts.maxClusters ?? 60, Math.max(1, Math.floor(m / minSize)));

  // distance matrix of the sample
  const D = new Float32Array(m * m);
  for (let i = 0; i < m; i++) {
    const io = S[i] * d;
    for (let j = i + 1; j < m; j++) {
      const jo = S[j] * d;
      let s = 0;
      for (let a = 0; a < d; a++) s += F[io + a] * F[jo + a];
      const dist = 1 - s;
      D[i * m + j] = dist; D[j * m + i] = dist;
    }
  }
  const merges = nnChainAverage(D, m);
  merges.sort((x, y) => x.dist - y.dist);

  // evaluate cuts
  const parent = Int32Array.from({ length: m }, (_, i) => i);
  const find = (x: number): number => { while (parent[x] !== x) { parent[x] = parent[parent[x]]; x = parent[x]; } return x; };
  const candidates = new Set<number>();
  for (let k = 2; k <= Math.min(m, 25); k++) candidates.add(k);
  for (let k = 25; k <= Math.min(m, 400); k = Math.ceil(k * 1.12)) candidates.add(k);
  let best: { score: number; labels: Int32Array; big: number; cut: number } = { score: -Infinity, labels: new Int32Array(m).fill(-1), big: 0, cut: 1 };
  const evaluated: { score: number; labels: Int32Array; big: number; cut: number }[] = [];
  let total = m;
  const evalCut = () => {
    const roots = new Int32Array(m);
    const counts = new Map<number, number>();
    for (let i = 0; i < m; i++) { roots[i] = find(i); counts.set(roots[i], (counts.get(roots[i]) ?? 0) + 1); }
    const bigIdx = new Map<number, number>();
    for (const [r, c] of counts) if (c >= minSize) bigIdx.set(r, bigIdx.size);
    if (bigIdx.size < 1 || bigIdx.size > maxK) return;
    const labels = new Int32Array(m);
    for (let i = 0; i < m; i++) labels[i] = bigIdx.get(roots[i]) ?? -1;
    const score = bigIdx.size === 1 ? 0 : silhouette(D, m, labels, bigIdx.size);
    const e = { score, labels, big: bigIdx.size, cut: total };
    evaluated.push(e);
    if (score > best.score) best = e;
  };
  if (candidates.has(m)) evalCut();
  for (const mg of merges) {
    const ra = find(mg.a), rb = find(mg.b);
    if (ra !== rb) { parent[rb] = ra; total--; }
    if (candidates.has(total)) evalCut();
  }
  const finer = opts.preferFiner ?? 0.9;
  let chosen = best;
  for (const e of evaluated) if (e.score >= finer * best.score && e.big > chosen.big) chosen = e;
  // no cut separates the sample better than chance-level structure: one cluster (outlier rule still applies)
  if (!Number.isFinite(chosen.score) || chosen.score < (opts.minSilhouette ?? 0.1)) chosen = { score: Math.max(0, chosen.score), labels: new Int32Array(m).fill(0), big: 1, cut: 1 };
  const K = chosen.big;

  // centroids from the sample, then Lloyd refinement over all rows
  let centroids = new Float32Array(K * d);
  for (let i = 0; i < m; i++) {
    const c = chosen.labels[i];
    if (c < 0) continue;
    for (let a = 0; a < d; a++) centroids[c * d + a] += F[S[i] * d + a];
  }
  normalize(centroids, K, d);
  const assign = new Int32Array(n);
  const sim = new Float32Array(n);
  const sim2 = new Float32Array(n);
  const second = new Int32Array(n);
  const assignAll = () => {
    for (let i = 0; i < n; i++) {
      let b = -1, bs = -Infinity, b2 = -1, bs2 = -Infinity;
      const io = i * d;
      for (let c = 0; c < K; c++) {
        let s = 0;
        const co = c * d;
        for (let a = 0; a < d; a++) s += F[io + a] * centroids[co + a];
        if (s > bs) { b2 = b; bs2 = bs; b = c; bs = s; } else if (s > bs2) { b2 = c; bs2 = s; }
      }
      assign[i] = b; sim[i] = bs; sim2[i] = bs2; second[i] = b2;
    }
  };
  assignAll();
  // radius of each cluster: low quantile of its sample members' similarity (sample members only keep
  // the outlier decision independent of n)
  const q = opts.outlierQuantile ?? 0.03;
  for (let it = 0; it < 2; it++) {
    const radius = radii(assign, sim, S, K, q);
    const next = new Float32Array(K * d);
    for (let i = 0; i < n; i++) {
      const c = assign[i];
      if (sim[i] < radius[c] || ex?.[i]) continue;
      for (let a = 0; a < d; a++) next[c * d + a] += F[i * d + a];
    }
    normalize(next, K, d);
    for (let c = 0; c < K; c++) {
      let z = true;
      for (let a = 0; a < d; a++) if (next[c * d + a] !== 0) { z = false; break; }
      if (z) for (let a = 0; a < d; a++) next[c * d + a] = centroids[c * d + a];
    }
    centroids = next;
    assignAll();
  }
  const radius = radii(assign, sim, S, K, q);
  const border = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = assign[i];
    if (sim[i] < radius[c] || ex?.[i]) { assign[i] = -1; continue; }
    if (second[i] >= 0 && sim2[i] >= radius[second[i]]) border[i] = 1;
  }
  // drop clusters that ended up too small, and loose ones (cohesion under half the median: a pile of
  // outliers that average linkage happened to group)
  const sizes = new Int32Array(K);
  const coh = new Float64Array(K);
  for (let i = 0; i < n; i++) if (assign[i] >= 0) { sizes[assign[i]]++; coh[assign[i]] += sim[i]; }
  for (let c = 0; c < K; c++) coh[c] = sizes[c] ? coh[c] / sizes[c] : 0;
  const medCoh = [...coh].sort((a, b) => a - b)[Math.floor(K / 2)];
  for (let i = 0; i < n; i++) if (assign[i] >= 0 && coh[assign[i]] < 0.5 * medCoh) assign[i] = -1;
  sizes.fill(0);
  for (let i = 0; i < n; i++) if (assign[i] >= 0) sizes[assign[i]]++;
  const keep: number[] = [];
  const remap = new Int32Array(K).fill(-1);
  const minFull = Math.max(2, Math.round(minSize * n / m * 0.5));
  for (let c = 0; c < K; c++) if (sizes[c] >= Math.min(minFull, minSize)) { remap[c] = keep.length; keep.push(c); }
  for (let i = 0; i < n; i++) if (assign[i] >= 0) assign[i] = remap[assign[i]];
  const clusters = keep.map((c) => ({ size: sizes[c], cohesion: 0, representatives: [] as number[], centroid: centroids.slice(c * d, (c + 1) * d) }));
  const members: number[][] = clusters.map(() => []);
  const cohesion = new Float64Array(clusters.length);
  for (let i = 0; i < n; i++) if (assign[i] >= 0) { members[assign[i]].push(i); cohesion[assign[i]] += sim[i]; }
  clusters.forEach((cl, c) => {
    cl.cohesion = cl.size ? cohesion[c] / cl.size : 0;
    cl.representatives = members[c].sort((x, y) => sim[y] - sim[x]).slice(0, 12);
  });
  return { assign, similarity: sim, border, clusters, info: { sample: m, cutClusters: chosen.cut, silhouette: chosen.score } };
}

function radii(assign: Int32Array, sim: Float32Array, S: Int32Array, K: number, q: number): Float32Array {
  const per: number[][] = Array.from({ length: K }, () => []);
  for (const i of S) if (assign[i] >= 0) per[assign[i]].push(sim[i]);
  const r = new Float32Array(K);
  for (let c = 0; c < K; c++) {
    const v = per[c].sort((a, b) => a - b);
    r[c] = v.length ? v[Math.floor(q * (v.length - 1))] : -Infinity;
  }
  return r;
}

function normalize(M: Float32Array, K: number, d: number): void {
  for (let c = 0; c < K; c++) {
    let s = 0;
    for (let a = 0; a < d; a++) s += M[c * d + a] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let a = 0; a < d; a++) M[c * d + a] *= inv;
  }
}

/** Mean silhouette over all rows; rows labelled -1 (outliers) count 0. */
function silhouette(D: Float32Array, m: number, labels: Int32Array, K: number): number {
  const sizes = new Int32Array(K);
  for (let i = 0; i < m; i++) if (labels[i] >= 0) sizes[labels[i]]++;
  const sums = new Float64Array(K);
  let total = 0;
  for (let i = 0; i < m; i++) {
    const li = labels[i];
    if (li < 0) continue;
    sums.fill(0);
    const ro = i * m;
    for (let j = 0; j < m; j++) { const lj = labels[j]; if (lj >= 0) sums[lj] += D[ro + j]; }
    if (sizes[li] <= 1) continue;
    const a = sums[li] / (sizes[li] - 1);
    let b = Infinity;
    for (let c = 0; c < K; c++) if (c !== li && sizes[c] > 0) b = Math.min(b, sums[c] / sizes[c]);
    const s = (b - a) / Math.max(a, b);
    if (Number.isFinite(s)) total += s;
  }
  return total / m;
}

/** Average-linkage agglomerative clustering by the nearest-neighbour chain. D is destroyed. */
export function nnChainAverage(D: Float32Array, m: number): { a: number; b: number; dist: number }[] {
  const size = new Int32Array(m).fill(1);
  const active = new Uint8Array(m).fill(1);
  const merges: { a: number; b: number; dist: number }[] = [];
  const chain: number[] = [];
  let remaining = m;
  let nextStart = 0;
  while (remaining > 1) {
    if (chain.length === 0) {
      while (!active[nextStart]) nextStart++;
      chain.push(nextStart);
    }
    const a = chain[chain.length - 1];
    const prev = chain.length >= 2 ? chain[chain.length - 2] : -1;
    let b = -1, bd = Infinity;
    if (prev >= 0) { b = prev; bd = D[a * m + prev]; }
    const ro = a * m;
    for (let c = 0; c < m; c++) {
      if (c === a || !active[c]) continue;
      const dv = D[ro + c];
      if (dv < bd) { bd = dv; b = c; }
    }
    if (b === prev) {
      chain.pop(); chain.pop();
      // merge b into a (keep the lower index as the representative slot)
      const keep = Math.min(a, b), drop = Math.max(a, b);
      merges.push({ a: keep, b: drop, dist: bd });
      const nk = size[keep], nd = size[drop];
      for (let c = 0; c < m; c++) {
        if (!active[c] || c === keep || c === drop) continue;
        const v = (nk * D[keep * m + c] + nd * D[drop * m + c]) / (nk + nd);
        D[keep * m + c] = v; D[c * m + keep] = v;
      }
      size[keep] = nk + nd;
      active[drop] = 0;
      remaining--;
    } else {
      chain.push(b);
    }
  }
  return merges;
}
