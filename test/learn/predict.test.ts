import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import onnxProto from 'onnx-proto';
import { plantedGroups } from '../../src/learn/synthetic.ts';
import { fit, predictRange, train, type Kernel } from '../../src/learn/learn.worker.ts';
import { fitTemperature, trainLogReg, type Predictions, type TrainSet } from '../../src/learn/classifier.ts';
import { encodeModel, gradGraph, onnxKernels, predictGraph, predictOnnx, trainLogRegOnnx } from '../../src/learn/onnx-kernels.ts';

/** 4 planted groups, 3 labelled: 10 confirmed each, 40 cluster-assigned (cross-fitting needs >= 10), 3 rejections */
function fixture() {
  const set = plantedGroups({ dim: 24, groups: 4, perGroup: 150, spread: 1.1, outliers: 40, seed: 5 });
  const rows: number[] = [], y: number[] = [], pw: number[] = [];
  for (let g = 0; g < 3; g++) {
    const members = [...set.truth.keys()].filter((i) => set.truth[i] === g);
    members.slice(0, 50).forEach((r, j) => { rows.push(r); y.push(g); pw.push(j < 10 ? 1 : 0.5); });
  }
  const negRows = Int32Array.from([300, 301, 302]), negY = Int32Array.from([0, 1, 2]);
  const ts: TrainSet = { rows: Int32Array.from(rows), y: Int32Array.from(y), negRows, negY, pw: Float32Array.from(pw) };
  const masked = new Map([...negRows].map((r, i) => [r, [negY[i]]]));
  return { set, ts, masked, n: set.n, d: set.dim };
}

const empty = (n: number): Predictions => ({ best: new Int32Array(n), prob: new Float32Array(n), margin: new Float32Array(n) });

describe('prediction split over row ranges (worker threads)', () => {
  for (const kernel of ['js', 'onnx'] as Kernel[]) {
    it(`gives exactly the one-thread predictions, with the cross-fitted twin, rejections and the open-set gate (${kernel} kernels)`, async () => {
      const { set, ts, masked, n, d } = fixture();
      const one = await train(set.data, n, d, 3, ts, null, true, masked, 0.49, kernel);
      const f = await fit(set.data, d, 3, ts, null, true, 0.49, kernel);
      expect(f.model.twin).toBeDefined();
      expect(f.twinRows.length).toBe(60);
      const split = empty(n);
      const cut = Math.floor(n / 2) + 7;
      await predictRange(set.data, d, cut, n, f, masked, split, kernel);
      await predictRange(set.data, d, 0, cut, f, masked, split, kernel);
      expect([...split.best]).toEqual([...one.predictions.best]);
      expect([...split.prob]).toEqual([...one.predictions.prob]);
      expect([...split.margin]).toEqual([...one.predictions.margin]);
      // the parts matter: the twin predicts its rows, rejections are masked, the gate capped some outliers
      for (const r of ts.negRows) expect(split.best[r]).not.toBe(masked.get(r)![0]);
      expect([...split.prob].filter((p) => Math.abs(p - 0.49) < 1e-6).length).toBeGreaterThan(0);
    });
  }
});

describe('ONNX kernels (onnxruntime) equal the JS reference kernels', () => {
  // these compare the two kernels, also when the rest of the suite runs with SIFT_LEARN_KERNEL=js
  let saved: string | undefined;
  beforeAll(() => { saved = process.env.SIFT_LEARN_KERNEL; delete process.env.SIFT_LEARN_KERNEL; });
  afterAll(() => { if (saved !== undefined) process.env.SIFT_LEARN_KERNEL = saved; });

  it('writes graphs that decode as ONNX with the intended ops', () => {
    const m = onnxProto.onnx.ModelProto.decode(encodeModel(predictGraph()));
    expect(Number(m.opsetImport![0].version)).toBe(13);
    expect(m.graph!.node!.map((x) => x.opType)).toEqual(['Gemm', 'Div', 'Softmax', 'ReduceMax', 'ArgMax', 'Cast', 'Less', 'Cast', 'Mul', 'ReduceMax', 'ReduceSum', 'Gemm', 'GatherElements', 'ReduceL2']);
    expect(m.graph!.input!.map((x) => x.name)).toEqual(['X', 'W', 'B', 'T', 'C']);
    const g = onnxProto.onnx.ModelProto.decode(encodeModel(gradGraph())).graph!;
    expect(g.initializer!.map((t) => t.name)).toEqual(['ax0', 'ax1', 'one', 'pmax']);
    expect(Number(g.node!.find((x) => x.opType === 'Softmax')!.attribute![0].i)).toBe(1);
  });

  it('trains the same weights (gradient with negatives, warm start)', async () => {
    const k = await onnxKernels();
    expect(k).not.toBeNull();
    const { set, ts, d } = fixture();
    const js = trainLogReg(set.data, d, 3, ts, {});
    const ox = await trainLogRegOnnx(k!.grad, set.data, d, 3, ts, {});
    const scale = Math.max(...js.W.map(Math.abs));
    expect(scale).toBeGreaterThan(0.1);
    let diff = 0;
    for (let q = 0; q < js.W.length; q++) diff = Math.max(diff, Math.abs(js.W[q] - ox.W[q]));
    expect(diff / scale).toBeLessThan(1e-4);
    // a warm-started retrain from the same start gives the same weights too (4 classes now: one new)
    const js2 = trainLogReg(set.data, d, 4, ts, { warm: js });
    const ox2 = await trainLogRegOnnx(k!.grad, set.data, d, 4, ts, { warm: js });
    diff = 0;
    for (let q = 0; q < js2.W.length; q++) diff = Math.max(diff, Math.abs(js2.W[q] - ox2.W[q]));
    expect(diff / scale).toBeLessThan(1e-4);
  });

  it('predicts the same labels, confidences and margins (twin, rejections, gate) within 1e-5', async () => {
    const { set, ts, masked, n, d } = fixture();
    const f = await fit(set.data, d, 3, ts, null, true, 0.49, 'js');
    const js = empty(n), ox = empty(n);
    await predictRange(set.data, d, 0, n, f, masked, js, 'js');
    await predictRange(set.data, d, 0, n, f, masked, ox, 'onnx');
    let gated = 0;
    for (let i = 0; i < n; i++) {
      // a different best class is allowed only for a tie (margin ~ 0)
      if (js.best[i] !== ox.best[i]) expect(js.margin[i]).toBeLessThan(1e-5);
      else {
        expect(Math.abs(js.prob[i] - ox.prob[i])).toBeLessThan(1e-5);
        expect(Math.abs(js.margin[i] - ox.margin[i])).toBeLessThan(1e-5);
      }
      if (js.prob[i] === Math.fround(0.49)) gated++;
    }
    expect(gated).toBeGreaterThan(0);
    expect(js.best.filter((b, i) => b !== ox.best[i]).length).toBeLessThanOrEqual(1);
    for (const r of ts.negRows) expect(ox.best[r]).not.toBe(masked.get(r)![0]);
  });

  it('predicts the same in blocks of rows as in one run (block boundaries, rejections)', async () => {
    const k = (await onnxKernels())!;
    const { set, ts, masked, n, d } = fixture();
    const f = await fit(set.data, d, 3, ts, null, true, 0.49, 'onnx');
    const one = empty(n), blocks = empty(n);
    await predictOnnx(k.predict, set.data, n, d, f.model, f.gate, (j) => j, (j) => masked.get(j), one, n);
    await predictOnnx(k.predict, set.data, n, d, f.model, f.gate, (j) => j, (j) => masked.get(j), blocks, 97);
    expect([...blocks.best]).toEqual([...one.best]);
    expect([...blocks.prob]).toEqual([...one.prob]);
    expect([...blocks.margin]).toEqual([...one.margin]);
  });

  it('keeps the JS tie rule: two equal top classes give margin 0 and the first of them', async () => {
    const { set, n, d } = fixture();
    // class 2 is a copy of class 1: every row ties between them wherever they beat class 0
    const W = new Float32Array(3 * (d + 1));
    for (let a = 0; a < d; a++) { W[a] = 0.3 * Math.sin(a); W[(d + 1) + a] = W[2 * (d + 1) + a] = 0.3 * Math.cos(a); }
    const f = { model: { K: 3, d, W, temperature: 1 }, twinRows: new Int32Array(0), gate: { cent: new Float64Array(3 * d), radius: Float64Array.from([-Infinity, -Infinity, -Infinity]), cap: 0.49 }, ms: 0 };
    const js = empty(n), ox = empty(n);
    await predictRange(set.data, d, 0, n, f, new Map(), js, 'js');
    await predictRange(set.data, d, 0, n, f, new Map(), ox, 'onnx');
    const ties = [...js.best.keys()].filter((i) => js.best[i] === 1);
    expect(ties.length).toBeGreaterThan(50);
    for (const i of ties) { expect(ox.best[i]).toBe(1); expect(ox.margin[i]).toBe(0); expect(js.margin[i]).toBe(0); }
    for (let i = 0; i < n; i++) expect(Math.abs(js.prob[i] - ox.prob[i])).toBeLessThan(1e-5);
  });
});

describe('temperature calibration', () => {
  it('finds the temperature that minimises the held-out NLL', () => {
    for (const spread of [1.2, 2.0, 3.0]) {
      const set = plantedGroups({ dim: 24, groups: 5, perGroup: 200, spread, seed: 3 });
      const rows = Int32Array.from({ length: 500 }, (_, i) => 2 * i), ho = Int32Array.from({ length: 500 }, (_, i) => 2 * i + 1);
      const m = trainLogReg(set.data, 24, 5, { rows, y: Int32Array.from(rows, (r) => set.truth[r]), negRows: new Int32Array(0), negY: new Int32Array(0) });
      const y = Int32Array.from(ho, (r) => set.truth[r]);
      const nll = (T: number) => {
        let L = 0;
        for (let j = 0; j < ho.length; j++) {
          const z = Array.from({ length: 5 }, (_, c) => { let s = m.W[c * 25 + 24]; for (let a = 0; a < 24; a++) s += m.W[c * 25 + a] * set.data[ho[j] * 24 + a]; return s / T; });
          const mx = Math.max(...z);
          L -= z[y[j]] - mx - Math.log(z.reduce((s, v) => s + Math.exp(v - mx), 0));
        }
        return L;
      };
      const T = fitTemperature(set.data, m, ho, y);
      expect(T).toBeGreaterThan(0.05);
      expect(T).toBeLessThan(20);
      for (const f of [0.99, 1.01, 0.9, 1.1]) expect(nll(T)).toBeLessThan(nll(T * f));
    }
  });
});
