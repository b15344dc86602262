import { describe, it, expect } from 'vitest';
import { plantedGroups } from '../../src/learn/synthetic.ts';
import { fit, predictRange, train } from '../../src/learn/learn.worker.ts';
import type { Predictions, TrainSet } from '../../src/learn/classifier.ts';

describe('prediction split over row ranges (worker threads)', () => {
  it('gives exactly the one-thread predictions, with the cross-fitted twin, rejections and the open-set gate', () => {
    const set = plantedGroups({ dim: 24, groups: 4, perGroup: 150, spread: 1.1, outliers: 40, seed: 5 });
    const n = set.n, d = set.dim;
    // 3 labelled groups: 10 confirmed each, 40 cluster-assigned (cross-fitting needs >= 10), some rejections
    const rows: number[] = [], y: number[] = [], pw: number[] = [];
    for (let g = 0; g < 3; g++) {
      const members = [...set.truth.keys()].filter((i) => set.truth[i] === g);
      members.slice(0, 50).forEach((r, j) => { rows.push(r); y.push(g); pw.push(j < 10 ? 1 : 0.5); });
    }
    const negRows = Int32Array.from([300, 301, 302]), negY = Int32Array.from([0, 1, 2]);
    const ts: TrainSet = { rows: Int32Array.from(rows), y: Int32Array.from(y), negRows, negY, pw: Float32Array.from(pw) };
    const masked = new Map([...negRows].map((r, i) => [r, [negY[i]]]));
    const one = train(set.data, n, d, 3, ts, null, true, masked);
    const f = fit(set.data, d, 3, ts, null, true);
    expect(f.model.twin).toBeDefined();
    expect(f.twinRows.length).toBe(60);
    const split: Predictions = { best: new Int32Array(n), prob: new Float32Array(n), margin: new Float32Array(n) };
    const cut = Math.floor(n / 2) + 7;
    predictRange(set.data, d, cut, n, f, masked, split);
    predictRange(set.data, d, 0, cut, f, masked, split);
    expect([...split.best]).toEqual([...one.predictions.best]);
    expect([...split.prob]).toEqual([...one.predictions.prob]);
    expect([...split.margin]).toEqual([...one.predictions.margin]);
    // the parts matter: the twin predicts its rows, rejections are masked, the gate capped some outliers
    for (const r of negRows) expect(split.best[r]).not.toBe(masked.get(r)![0]);
    expect([...split.prob].filter((p) => Math.abs(p - 0.49) < 1e-6).length).toBeGreaterThan(0);
  });
});
