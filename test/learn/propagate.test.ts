import { describe, expect, it } from 'vitest';
import { knnGraph, propagate } from '../../src/learn/propagate.ts';
import { plantedGroups } from '../../src/learn/synthetic.ts';
import { predictAll, trainLogReg } from '../../src/learn/classifier.ts';

/** Two-moons-like data in 2-D + noise dims: classes a linear model cannot separate, but a kNN graph can. */
function moons(n: number, d: number, seed: number) {
  let s = seed;
  const r = () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
  const X = new Float32Array(n * d), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 2, t = Math.PI * r();
    const x0 = c === 0 ? Math.cos(t) : 1 - Math.cos(t), x1 = c === 0 ? Math.sin(t) : 0.5 - Math.sin(t);
    X[i * d] = x0 + 0.05 * (r() - 0.5); X[i * d + 1] = x1 + 0.05 * (r() - 0.5);
    for (let a = 2; a < d; a++) X[i * d + a] = 0.02 * (r() - 0.5);
    // shift so cosine similarity sees the geometry (away from the origin)
    X[i * d + 2] += 3;
    y[i] = c;
  }
  return { X, y };
}

describe('label propagation over the kNN graph', () => {
  it('finds the exact nearest neighbours (checked against a plain sort)', () => {
    const set = plantedGroups({ dim: 16, groups: 3, perGroup: 30, spread: 1, seed: 2 });
    const g = knnGraph(set.data, set.n, 16, 5);
    for (const i of [0, 17, 45, 89]) {
      const sims = Array.from({ length: set.n }, (_, j) => {
        let s = 0, a2 = 0, b2 = 0;
        for (let a = 0; a < 16; a++) { s += set.data[i * 16 + a] * set.data[j * 16 + a]; a2 += set.data[i * 16 + a] ** 2; b2 += set.data[j * 16 + a] ** 2; }
        return { j, s: s / Math.sqrt(a2 * b2) };
      }).filter((x) => x.j !== i).sort((a, b) => b.s - a.s);
      expect([...g.nb.subarray(i * 5, i * 5 + 5)]).toEqual(sims.slice(0, 5).map((x) => x.j));
    }
  });

  it('labels a whole planted group from a few seeds, and flags a seed that carries the wrong label', () => {
    const set = plantedGroups({ dim: 32, groups: 3, perGroup: 60, spread: 1, seed: 5 });
    const g = knnGraph(set.data, set.n, 32);
    const rowsOf = (c: number) => [...set.truth.keys()].filter((i) => set.truth[i] === c);
    const seedRows: number[] = [], seedY: number[] = [];
    for (let c = 0; c < 3; c++) for (const r of rowsOf(c).slice(0, 3)) { seedRows.push(r); seedY.push(c); }
    // a photo of group 0 wrongly assigned (weight 0.5) to group 2 with its cluster
    const wrong = rowsOf(0)[10];
    seedRows.push(wrong); seedY.push(2);
    const out = propagate(g, 3, { rows: Int32Array.from(seedRows), y: Int32Array.from(seedY), weight: Float32Array.from(seedRows, (_, i) => (i === seedRows.length - 1 ? 0.5 : 1)) });
    let right = 0;
    for (let i = 0; i < set.n; i++) if (out.best[i] === set.truth[i]) right++;
    expect(right / set.n).toBeGreaterThan(0.97);
    expect(out.best[wrong]).toBe(0);
  });

  it('never predicts a masked (rejected) class, and a warm start converges to the cold answer', () => {
    const set = plantedGroups({ dim: 16, groups: 2, perGroup: 40, spread: 1, seed: 9 });
    const g = knnGraph(set.data, set.n, 16);
    const seeds = { rows: Int32Array.from([0, 1, 40, 41]), y: Int32Array.from([set.truth[0], set.truth[1], set.truth[40], set.truth[41]]), weight: Float32Array.from([1, 1, 1, 1]) };
    const target = 5, cls = set.truth[5];
    const cold = propagate(g, 2, seeds, { iters: 60, masked: new Map([[target, [cls]]]) });
    expect(cold.best[target]).not.toBe(cls);
    const other = propagate(g, 2, seeds, { iters: 3 });
    const warm = propagate(g, 2, seeds, { iters: 60, warm: other.F });
    for (let i = 0; i < set.n; i++) expect(Math.abs(warm.prob[i] - propagate(g, 2, seeds, { iters: 60 }).prob[i])).toBeLessThan(1e-4);
  });

  it('beats the logistic regression where classes are not linearly separable (the reason it is kept)', () => {
    const n = 400, d = 8;
    const { X, y } = moons(n, d, 3);
    const seedRows = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const g = knnGraph(X, n, d);
    const lp = propagate(g, 2, { rows: seedRows, y: Int32Array.from(seedRows, (r) => y[r]), weight: new Float32Array(10).fill(1) });
    const m = trainLogReg(X, d, 2, { rows: seedRows, y: Int32Array.from(seedRows, (r) => y[r]), negRows: new Int32Array(0), negY: new Int32Array(0) });
    const lr = predictAll(X, n, m);
    const acc = (best: Int32Array) => best.reduce((s, b, i) => s + (b === y[i] ? 1 : 0), 0) / n;
    expect(acc(lp.best)).toBeGreaterThan(0.95);
    expect(acc(lp.best)).toBeGreaterThan(acc(lr.best) + 0.05);
  });
});

describe('label propagation in the engine', () => {
  it('answers for small libraries (a wrongly assigned photo is flagged from its neighbours), not above the size limit', async () => {
    const { fixture } = await import('./fixtures.ts');
    const { learnService } = await import('../../src/api/handlers/learn.ts');
    const runOnce = async (lpMax: number | null) => {
      const f = fixture({ dim: 32, groups: 3, perGroup: 40, spread: 1, seed: 12 });
      try {
        const svc = learnService(f.engine.ctx);
        if (lpMax !== null) svc.lpMaxPhotos = lpMax;
        const byGroup = [0, 1, 2].map((g) => f.ids.filter((_, i) => f.set.truth[i] === g));
        for (let g = 0; g < 3; g++) await f.engine.call('learn.label', { name: `G${g}`, photos: byGroup[g].slice(0, 4) });
        // a G0 photo assigned to G1 with its (one-photo) cluster
        const { clusterId } = await f.engine.call('learn.split', { photos: [byGroup[0][30]] });
        await f.engine.call('learn.label', { name: 'G1', clusters: [clusterId!] });
        await f.engine.call('learn.reject', { label: 'G0', photos: [byGroup[0][31]] }); // never G0 again
        const page = await f.engine.call('learn.suggestions', { limit: 1000 });
        const item = (id: number) => page.items.find((x) => x.photoId === id);
        const truthOf = new Map(f.ids.map((id, i) => [id, `G${f.set.truth[i]}`]));
        const unlabeled = page.items.filter((x) => !x.current);
        const right = unlabeled.filter((x) => x.label === truthOf.get(x.photoId)).length;
        return { ms: svc.lastPropagateMs, wrong: item(byGroup[0][30]), rejected: item(byGroup[0][31]), page, right, unlabeled: unlabeled.length };
      } finally { f.engine.close(); }
    };
    const lp = await runOnce(null);
    expect(lp.ms).toBeGreaterThan(0);
    expect(lp.wrong?.current?.label).toBe('G1');
    expect(lp.wrong?.label).toBe('G0');
    expect(lp.wrong?.reason).toBe('disagrees');
    expect(lp.page.items[0].photoId).toBe(lp.wrong?.photoId);
    expect(lp.rejected).toBeDefined();
    expect(lp.rejected!.label).not.toBe('G0');
    // the unlabelled photos of the three groups are suggested right
    expect(lp.unlabeled).toBeGreaterThan(100);
    expect(lp.right / lp.unlabeled).toBeGreaterThan(0.97);
    const off = await runOnce(0);
    expect(off.ms).toBe(0);
    expect(off.rejected).toBeDefined();
    expect(off.rejected!.label).not.toBe('G0');
  });
});

describe('cross-fitted propagation', () => {
  it('a photo assigned to the wrong label does not vote for itself, even with a single right seed nearby', async () => {
    const { propagateCrossFitted } = await import('../../src/learn/propagate.ts');
    const set = plantedGroups({ dim: 32, groups: 2, perGroup: 100, spread: 1, seed: 21 });
    const g = knnGraph(set.data, set.n, 32);
    const rowsOf = (c: number) => [...set.truth.keys()].filter((i) => set.truth[i] === c);
    const a = rowsOf(0), b = rowsOf(1);
    // one confirmed seed per group, and one group-A photo assigned (weight 0.5) to B with its cluster
    const wrong = a[50];
    const seeds = { rows: Int32Array.from([a[0], b[0], wrong]), y: Int32Array.from([set.truth[a[0]], set.truth[b[0]], set.truth[b[0]]]), weight: Float32Array.from([1, 1, 0.5]) };
    const plain = propagate(g, 2, seeds);
    const fitted = propagateCrossFitted(g, 2, seeds, Int8Array.from([-1, -1, 0]));
    expect(fitted.best[wrong]).toBe(set.truth[wrong]);
    expect(fitted.prob[wrong]).toBeGreaterThan(0.9);
    // the plain read (S F) keeps an echo of the photo's own label: it is less sure, or wrong
    expect(plain.best[wrong] !== set.truth[wrong] || plain.prob[wrong] < fitted.prob[wrong]).toBe(true);
    // every other photo: both folds together
    let right = 0;
    for (let i = 0; i < set.n; i++) if (fitted.best[i] === set.truth[i]) right++;
    expect(right / set.n).toBeGreaterThan(0.9);
  });
});
