import { describe, it, expect } from 'vitest';
import { plantedGroups } from '../../src/learn/synthetic.ts';
import { fitPca, project, sampleIndices } from '../../src/learn/linalg.ts';
import { clusterRows } from '../../src/learn/cluster.ts';
import { predictAll, trainLogReg } from '../../src/learn/classifier.ts';
import { rng } from '../../src/learn/linalg.ts';
import { outOfSubspace } from '../../src/learn/learn.worker.ts';

function features(set: ReturnType<typeof plantedGroups>) {
  const p = fitPca(set.data, set.dim, sampleIndices(set.n, 3000), 32);
  const captured = new Float32Array(set.n);
  const F = project(p, set.data, set.n, { whiten: true, normalize: true, whitenShrink: 4 }, undefined, captured);
  return { F, d: p.k, exclude: outOfSubspace(captured) };
}

/** share of rows whose cluster's majority true group is their own group (outliers excluded) */
function purity(assign: Int32Array, truth: Int32Array): number {
  const counts = new Map<number, Map<number, number>>();
  let n = 0;
  for (let i = 0; i < assign.length; i++) {
    if (assign[i] < 0) continue;
    n++;
    const m = counts.get(assign[i]) ?? new Map<number, number>();
    m.set(truth[i], (m.get(truth[i]) ?? 0) + 1);
    counts.set(assign[i], m);
  }
  let pure = 0;
  for (const m of counts.values()) pure += Math.max(...m.values());
  return pure / n;
}

describe('clustering (pure)', () => {
  it('finds planted groups without being told how many, with outliers kept out of them', () => {
    for (const groups of [4, 9]) {
      const set = plantedGroups({ dim: 128, groups, perGroup: 60, spread: 1.0, outliers: 8, seed: groups });
      const { F, d, exclude } = features(set);
      const out = clusterRows(F, set.n, d, { exclude });
      expect(out.clusters.length).toBeGreaterThanOrEqual(groups);
      expect(out.clusters.length).toBeLessThanOrEqual(groups + 1);
      expect(purity(out.assign, set.truth)).toBeGreaterThan(0.97);
      expect(out.clusters.length - [...new Set(out.assign)].filter((c) => c >= 0).length).toBe(0);
      expect(purity(out.assign, set.truth)).toBeGreaterThan(0.97);
      // every planted group is the majority of some cluster
      const majority = new Set<number>();
      for (let c = 0; c < out.clusters.length; c++) {
        const m = new Map<number, number>();
        for (let i = 0; i < set.n; i++) if (out.assign[i] === c) m.set(set.truth[i], (m.get(set.truth[i]) ?? 0) + 1);
        majority.add([...m].sort((a, b) => b[1] - a[1])[0][0]);
      }
      for (let g = 0; g < groups; g++) expect(majority.has(g)).toBe(true);
      // planted outliers do not leak into the planted groups' clusters (purity above counts them as errors);
      // they end up unclustered or, known weakness, as one small pile of their own
    }
  });

  it('does not split structureless data: one Gaussian group gives one cluster', () => {
    const set = plantedGroups({ dim: 64, groups: 1, perGroup: 80, spread: 0.5, seed: 9 });
    const { F, d } = features(set);
    const out = clusterRows(F, set.n, d);
    expect(out.clusters.length).toBeLessThanOrEqual(2);
    expect(out.clusters[0].size).toBeGreaterThan(40);
  });
});

describe('classifier', () => {
  it('class-balanced logistic regression beats nearest-centroid on an anisotropic task', () => {
    // two classes differ along one low-variance axis; a high-variance nuisance axis also shifts the class
    // means (unequal class sizes make centroids mislead), so the nearest centroid is fooled
    const r = rng(3);
    const d = 8, n = 1200;
    const X = new Float32Array(n * d);
    const y = new Int32Array(n);
    const g = () => { const u = Math.max(r(), 1e-12); return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r()); };
    for (let i = 0; i < n; i++) {
      const c = r() < 0.8 ? 0 : 1;
      y[i] = c;
      X[i * d + 0] = (c ? 0.6 : -0.6) + 0.25 * g();      // the informative axis
      X[i * d + 1] = (c ? -2 : 2) * 0.5 + 4 * g();        // nuisance, large variance, shifted means
      for (let a = 2; a < d; a++) X[i * d + a] = 3 * g();
    }
    const train = Int32Array.from({ length: 400 }, (_, i) => i);
    const test = Int32Array.from({ length: n - 400 }, (_, i) => i + 400);
    const model = trainLogReg(X, d, 2, { rows: train, y: Int32Array.from(train, (i) => y[i]), negRows: new Int32Array(0), negY: new Int32Array(0) }, { iters: 300, lr: 0.2 });
    const pr = predictAll(X, n, model);
    const cent = new Float64Array(2 * d), cnt = [0, 0];
    for (const i of train) { cnt[y[i]]++; for (let a = 0; a < d; a++) cent[y[i] * d + a] += X[i * d + a]; }
    for (let c = 0; c < 2; c++) for (let a = 0; a < d; a++) cent[c * d + a] /= cnt[c];
    let lr = 0, nc = 0;
    for (const i of test) {
      if (pr.best[i] === y[i]) lr++;
      let best = -1, bd = Infinity;
      for (let c = 0; c < 2; c++) { let s = 0; for (let a = 0; a < d; a++) s += (X[i * d + a] - cent[c * d + a]) ** 2; if (s < bd) { bd = s; best = c; } }
      if (best === y[i]) nc++;
    }
    expect(lr / test.length).toBeGreaterThan(0.9);
    expect(lr).toBeGreaterThan(nc + 0.05 * test.length);
  });

  it('a masked (rejected) class is never predicted', () => {
    const set = plantedGroups({ dim: 16, groups: 3, perGroup: 30, spread: 0.6, seed: 2 });
    const rows = Int32Array.from({ length: set.n }, (_, i) => i);
    const model = trainLogReg(set.data, set.dim, 3, { rows, y: set.truth, negRows: new Int32Array(0), negY: new Int32Array(0) });
    const pr = predictAll(set.data, set.n, model, (row) => [set.truth[row]]);
    for (let i = 0; i < set.n; i++) expect(pr.best[i]).not.toBe(set.truth[i]);
  });
});
