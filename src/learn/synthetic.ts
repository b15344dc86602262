// Synthetic embeddings with planted groups, for tests and the simulated-user benchmark's own fixtures.
import { rng } from './linalg.ts';

export interface SyntheticSet {
  dim: number;
  n: number;
  /** row-major n × dim, rows unit length */
  data: Float32Array;
  /** true group per row, -1 = planted outlier */
  truth: Int32Array;
}

function gauss(r: () => number): number {
  const u = Math.max(r(), 1e-12), v = r();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * `groups` planted Gaussian groups (sizes given, or `perGroup` each) around random unit centres, noise
 * `spread` per coordinate relative to 1/sqrt(dim), plus `outliers` uniform random rows.
 */
export function plantedGroups(opts: { dim?: number; groups?: number; perGroup?: number; sizes?: number[]; spread?: number; outliers?: number; seed?: number }): SyntheticSet {
  const dim = opts.dim ?? 64;
  const sizes = opts.sizes ?? Array.from({ length: opts.groups ?? 5 }, () => opts.perGroup ?? 50);
  const outliers = opts.outliers ?? 0;
  const spread = opts.spread ?? 0.8;
  const r = rng(opts.seed ?? 42);
  const centres = sizes.map(() => {
    const c = Float64Array.from({ length: dim }, () => gauss(r));
    const nrm = Math.hypot(...c);
    return c.map((x) => x / nrm);
  });
  const n = sizes.reduce((a, b) => a + b, 0) + outliers;
  const data = new Float32Array(n * dim);
  const truth = new Int32Array(n);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
  let row = 0;
  const put = (g: number, v: Float64Array) => {
    const at = order[row++];
    const nrm = Math.hypot(...v) || 1;
    for (let a = 0; a < dim; a++) data[at * dim + a] = v[a] / nrm;
    truth[at] = g;
  };
  const sd = spread / Math.sqrt(dim);
  sizes.forEach((s, g) => {
    for (let i = 0; i < s; i++) put(g, centres[g].map((c) => c + sd * gauss(r)));
  });
  for (let i = 0; i < outliers; i++) put(-1, Float64Array.from({ length: dim }, () => gauss(r)));
  return { dim, n, data, truth };
}
