// The classifier's two dense kernels as tiny ONNX graphs run by onnxruntime-node (MLAS: SIMD GEMM), with the
// same meaning as the plain-JS reference kernels in classifier.ts:
//  - prediction: logits X·Wᵀ + b, divided by the temperature, softmax, the best class, its probability and
//    the second best one; plus the similarity to the best class's centroid and |x| for the open-set gate.
//    Only a few numbers per row leave the graph. The hard mask of rejected labels (those rows are few: the
//    JS reference predicts them) and the gate's decision run in JS.
//  - training gradient: softmax at the look-ahead weights, then the gradient of the class-balanced loss with
//    negatives (-log(1 - p_label)) as (A - f) ⊙ (P - Y) (A = weight of a positive, f = w·p/(1-p) of a
//    negative), Rᵀ·X and Σ R. The Nesterov step itself stays in JS (classifier.ts nesterovStep).
// The graphs take the weights as inputs, so one session per thread serves every model. They are written
// here as ONNX protobuf bytes by a minimal encoder (the engine does not depend on the onnx-proto dev package).
// Any failure to create a session falls back to the JS kernels (SIFT_LEARN_KERNEL=js forces them).
import * as ort from 'onnxruntime-node';
import {
  lookAhead, nesterovStep, predictAll, prepareTrain, type Model, type Predictions, type TrainOptions, type TrainSet,
} from './classifier.ts';

// ---------- a minimal ONNX protobuf writer ----------

type Attr = number | number[];
interface NodeDef { op: string; inputs: string[]; outputs: string[]; attrs?: Record<string, Attr> }
interface InitDef { name: string; dims: number[]; type: 'float32' | 'int64'; values: number[] }
interface IoDef { name: string; shape: (number | string)[]; type: 'float32' | 'int64' | 'int32' }
export interface GraphDef { name: string; nodes: NodeDef[]; inits: InitDef[]; inputs: IoDef[]; outputs: IoDef[] }

const ELEM = { float32: 1, int32: 6, int64: 7 } as const;

class Pb {
  private b: number[] = [];
  private varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) { this.b.push(Number(x & 0x7fn) | 0x80); x >>= 7n; }
    this.b.push(Number(x));
  }
  private tag(field: number, wire: number): void { this.varint((field << 3) | wire); }
  int(field: number, v: number): this { this.tag(field, 0); this.varint(v); return this; }
  bytes(field: number, u8: Uint8Array): this { this.tag(field, 2); this.varint(u8.length); for (const x of u8) this.b.push(x); return this; }
  str(field: number, s: string): this { return this.bytes(field, new TextEncoder().encode(s)); }
  msg(field: number, m: Pb): this { return this.bytes(field, m.finish()); }
  float(field: number, v: number): this {
    this.tag(field, 5);
    const f = new Uint8Array(new Float32Array([v]).buffer);
    for (const x of f) this.b.push(x);
    return this;
  }
  finish(): Uint8Array { return Uint8Array.from(this.b); }
}

function valueInfo(io: IoDef): Pb {
  const shape = new Pb();
  for (const d of io.shape) shape.msg(1, typeof d === 'number' ? new Pb().int(1, d) : new Pb().str(2, d));
  const tensor = new Pb().int(1, ELEM[io.type]).msg(2, shape);
  return new Pb().str(1, io.name).msg(2, new Pb().msg(1, tensor));
}

/** ModelProto bytes (IR 7, opset 13) of a graph. */
export function encodeModel(g: GraphDef): Uint8Array {
  const graph = new Pb();
  for (const n of g.nodes) {
    const node = new Pb();
    for (const i of n.inputs) node.str(1, i);
    for (const o of n.outputs) node.str(2, o);
    node.str(3, `${n.op}_${n.outputs[0]}`).str(4, n.op);
    for (const [name, v] of Object.entries(n.attrs ?? {})) {
      const a = new Pb().str(1, name);
      if (Array.isArray(v)) { for (const x of v) a.int(8, x); a.int(20, 7); } // INTS
      else if (Number.isInteger(v)) a.int(3, v).int(20, 2); // INT
      else a.float(2, v).int(20, 1); // FLOAT
      node.msg(5, a);
    }
    graph.msg(1, node);
  }
  graph.str(2, g.name);
  for (const t of g.inits) {
    const tp = new Pb();
    for (const d of t.dims) tp.int(1, d);
    tp.int(2, ELEM[t.type]).str(8, t.name);
    const raw = t.type === 'int64' ? new Uint8Array(BigInt64Array.from(t.values, (x) => BigInt(x)).buffer) : new Uint8Array(Float32Array.from(t.values).buffer);
    tp.bytes(9, raw);
    graph.msg(5, tp);
  }
  for (const io of g.inputs) graph.msg(11, valueInfo(io));
  for (const io of g.outputs) graph.msg(12, valueInfo(io));
  return new Pb().int(1, 7).str(2, 'sift-learn').msg(7, graph).msg(8, new Pb().str(1, '').int(2, 13)).finish();
}

/**
 * Prediction, reduced to a few numbers per row so that little leaves the graph: P = softmax((X·Wᵀ + B) / T);
 * P1 = max P, I = its class (the first one on a tie, like the JS scan), P2 = the largest p below P1, NLT = how
 * many classes are below P1 (K - 1 unless there is a tie for the top), SG = X·c_I (c: unit class centroid, for
 * the open-set gate) and R = |x|.
 */
export function predictGraph(): GraphDef {
  return {
    name: 'sift_learn_predict',
    inputs: [
      { name: 'X', shape: ['N', 'D'], type: 'float32' }, { name: 'W', shape: ['K', 'D'], type: 'float32' },
      { name: 'B', shape: ['K'], type: 'float32' }, { name: 'T', shape: [1], type: 'float32' }, { name: 'C', shape: ['K', 'D'], type: 'float32' },
    ],
    inits: [{ name: 'ax1', dims: [1], type: 'int64', values: [1] }],
    nodes: [
      { op: 'Gemm', inputs: ['X', 'W', 'B'], outputs: ['Z'], attrs: { transB: 1 } },
      { op: 'Div', inputs: ['Z', 'T'], outputs: ['ZT'] },
      { op: 'Softmax', inputs: ['ZT'], outputs: ['P'], attrs: { axis: 1 } },
      { op: 'ReduceMax', inputs: ['P'], outputs: ['P1'], attrs: { axes: [1], keepdims: 1 } },
      { op: 'ArgMax', inputs: ['P'], outputs: ['I64'], attrs: { axis: 1, keepdims: 1 } },
      { op: 'Cast', inputs: ['I64'], outputs: ['I'], attrs: { to: 6 } },
      { op: 'Less', inputs: ['P', 'P1'], outputs: ['LT'] },
      { op: 'Cast', inputs: ['LT'], outputs: ['LTF'], attrs: { to: 1 } },
      { op: 'Mul', inputs: ['P', 'LTF'], outputs: ['PL'] },
      { op: 'ReduceMax', inputs: ['PL'], outputs: ['P2'], attrs: { axes: [1], keepdims: 0 } },
      { op: 'ReduceSum', inputs: ['LTF', 'ax1'], outputs: ['NLT'], attrs: { keepdims: 0 } },
      { op: 'Gemm', inputs: ['X', 'C'], outputs: ['S'], attrs: { transB: 1 } },
      { op: 'GatherElements', inputs: ['S', 'I64'], outputs: ['SG'], attrs: { axis: 1 } },
      { op: 'ReduceL2', inputs: ['X'], outputs: ['R'], attrs: { axes: [1], keepdims: 0 } },
    ],
    outputs: [
      { name: 'P1', shape: ['N', 1], type: 'float32' }, { name: 'I', shape: ['N', 1], type: 'int32' }, { name: 'P2', shape: ['N'], type: 'float32' },
      { name: 'NLT', shape: ['N'], type: 'float32' }, { name: 'SG', shape: ['N', 1], type: 'float32' }, { name: 'R', shape: ['N'], type: 'float32' },
    ],
  };
}

/**
 * Training gradient at weights (W, B) over examples X (one-hot class Y): A = weight of a positive (0 for a
 * negative), NW = weight of a negative (0 for a positive). R = (A - NW·p/(1-p)) ⊙ (P - Y) with p = min(p_y, 1-1e-6);
 * GW = Rᵀ·X, GB = Σ_rows R.
 */
export function gradGraph(): GraphDef {
  return {
    name: 'sift_learn_grad',
    inputs: [
      { name: 'X', shape: ['N', 'D'], type: 'float32' }, { name: 'W', shape: ['K', 'D'], type: 'float32' }, { name: 'B', shape: ['K'], type: 'float32' },
      { name: 'Y', shape: ['N', 'K'], type: 'float32' }, { name: 'A', shape: ['N', 1], type: 'float32' }, { name: 'NW', shape: ['N', 1], type: 'float32' },
    ],
    inits: [
      { name: 'ax0', dims: [1], type: 'int64', values: [0] }, { name: 'ax1', dims: [1], type: 'int64', values: [1] },
      { name: 'one', dims: [1], type: 'float32', values: [1] }, { name: 'pmax', dims: [1], type: 'float32', values: [1 - 1e-6] },
    ],
    nodes: [
      { op: 'Gemm', inputs: ['X', 'W', 'B'], outputs: ['Z'], attrs: { transB: 1 } },
      { op: 'Softmax', inputs: ['Z'], outputs: ['P'], attrs: { axis: 1 } },
      { op: 'Mul', inputs: ['P', 'Y'], outputs: ['PY'] },
      { op: 'ReduceSum', inputs: ['PY', 'ax1'], outputs: ['PT'], attrs: { keepdims: 1 } },
      { op: 'Min', inputs: ['PT', 'pmax'], outputs: ['PC'] },
      { op: 'Mul', inputs: ['NW', 'PC'], outputs: ['NP'] },
      { op: 'Sub', inputs: ['one', 'PC'], outputs: ['Q'] },
      { op: 'Div', inputs: ['NP', 'Q'], outputs: ['F'] },
      { op: 'Sub', inputs: ['A', 'F'], outputs: ['AF'] },
      { op: 'Sub', inputs: ['P', 'Y'], outputs: ['D'] },
      { op: 'Mul', inputs: ['AF', 'D'], outputs: ['RR'] },
      { op: 'Gemm', inputs: ['RR', 'X'], outputs: ['GW'], attrs: { transA: 1 } },
      { op: 'ReduceSum', inputs: ['RR', 'ax0'], outputs: ['GB'], attrs: { keepdims: 0 } },
    ],
    outputs: [{ name: 'GW', shape: ['K', 'D'], type: 'float32' }, { name: 'GB', shape: ['K'], type: 'float32' }],
  };
}

// ---------- sessions (one per graph per thread) ----------

let sessions: Promise<{ predict: ort.InferenceSession; grad: ort.InferenceSession } | null> | null = null;

/** The ONNX sessions of this thread, or null when the JS kernels are to be used (forced, or onnxruntime failed). */
export function onnxKernels(): Promise<{ predict: ort.InferenceSession; grad: ort.InferenceSession } | null> {
  if (process.env.SIFT_LEARN_KERNEL === 'js') return Promise.resolve(null);
  sessions ??= (async () => {
    try {
      // one intra-op thread: the pool already runs one task per core
      const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
      const [predict, grad] = await Promise.all([
        ort.InferenceSession.create(encodeModel(predictGraph()), opts),
        ort.InferenceSession.create(encodeModel(gradGraph()), opts),
      ]);
      return { predict, grad };
    } catch (e) {
      process.emitWarning(`learn: onnxruntime kernels unavailable, using the JS kernels (${(e as Error).message})`);
      return null;
    }
  })();
  return sessions;
}

/** onnxruntime-node takes tensors over ArrayBuffers only (not SharedArrayBuffer): copy when needed. */
function plain(a: Float32Array): Float32Array {
  return a.buffer instanceof SharedArrayBuffer ? a.slice() : a;
}

function splitWeights(W: Float32Array, K: number, d: number, scale = 1): { w: Float32Array; b: Float32Array } {
  const stride = d + 1;
  const w = new Float32Array(K * d), b = new Float32Array(K);
  for (let c = 0; c < K; c++) {
    for (let a = 0; a < d; a++) w[c * d + a] = W[c * stride + a] * scale;
    b[c] = W[c * stride + d] * scale;
  }
  return { w, b };
}

/** trainLogReg (classifier.ts) with the gradient computed by the ONNX graph. */
export async function trainLogRegOnnx(grad: ort.InferenceSession, X: Float32Array, d: number, K: number, set: TrainSet, opts: TrainOptions = {}): Promise<Model> {
  const stride = d + 1;
  const { rows, cls, wt, isNeg, iters, lr, l2, W } = prepareTrain(d, K, set, opts);
  const N = rows.length;
  if (N === 0 || iters === 0) return { K, d, W, temperature: 1 };
  const Xs = new Float32Array(N * d), Y = new Float32Array(N * K), A = new Float32Array(N), NW = new Float32Array(N);
  for (let j = 0; j < N; j++) {
    Xs.set(X.subarray(rows[j] * d, rows[j] * d + d), j * d);
    Y[j * K + cls[j]] = 1;
    if (isNeg[j]) NW[j] = wt[j]; else A[j] = wt[j];
  }
  const fixed = {
    X: new ort.Tensor('float32', Xs, [N, d]), Y: new ort.Tensor('float32', Y, [N, K]),
    A: new ort.Tensor('float32', A, [N, 1]), NW: new ort.Tensor('float32', NW, [N, 1]),
  };
  const G = new Float32Array(K * stride), V = new Float32Array(K * stride), Wl = new Float32Array(K * stride);
  for (let it = 0; it < iters; it++) {
    lookAhead(W, V, Wl);
    const { w, b } = splitWeights(Wl, K, d);
    const out = await grad.run({ ...fixed, W: new ort.Tensor('float32', w, [K, d]), B: new ort.Tensor('float32', b, [K]) });
    const gw = out.GW.data as Float32Array, gb = out.GB.data as Float32Array;
    for (let c = 0; c < K; c++) {
      for (let a = 0; a < d; a++) G[c * stride + a] = gw[c * d + a];
      G[c * stride + d] = gb[c];
    }
    nesterovStep(W, V, Wl, G, d, lr, l2);
  }
  return { K, d, W, temperature: 1 };
}

export interface Gate { cent: Float64Array; radius: Float64Array; cap: number }

/** rows per prediction graph run */
export const PREDICT_CHUNK = 32_768;

/**
 * Predicts `rows.length` rows (features Xr, row-major, the rows in the order given; `at[j]` is where row j's
 * result goes in `out`) with `model`, the rows in `masked` by the JS reference (they are few), then applies
 * the open-set gate. Same results as predictAll + the gate in learn.worker.ts up to float32 rounding.
 */
export async function predictOnnx(predict: ort.InferenceSession, Xr: Float32Array, n: number, d: number, model: Model, gate: Gate,
  at: (j: number) => number, masked: (j: number) => number[] | undefined, out: Predictions, chunk = PREDICT_CHUNK): Promise<void> {
  if (n === 0) return;
  const { K } = model;
  const X = plain(Xr.subarray(0, n * d));
  const { w, b } = splitWeights(model.W, K, d);
  const cent = Float32Array.from(gate.cent);
  // in blocks of PREDICT_CHUNK rows: the graph's intermediates (several rows × K floats) stay small at any library size
  const P1 = new Float32Array(n), I = new Int32Array(n), P2 = new Float32Array(n), NLT = new Float32Array(n), SG = new Float32Array(n), R = new Float32Array(n);
  const fixed = {
    W: new ort.Tensor('float32', w, [K, d]), B: new ort.Tensor('float32', b, [K]),
    T: new ort.Tensor('float32', new Float32Array([model.temperature]), [1]), C: new ort.Tensor('float32', cent, [K, d]),
  };
  for (let lo = 0; lo < n; lo += chunk) {
    const m = Math.min(chunk, n - lo);
    const res = await predict.run({ ...fixed, X: new ort.Tensor('float32', X.subarray(lo * d, (lo + m) * d), [m, d]) });
    P1.set(res.P1.data as Float32Array, lo); I.set(res.I.data as Int32Array, lo); P2.set(res.P2.data as Float32Array, lo);
    NLT.set(res.NLT.data as Float32Array, lo); SG.set(res.SG.data as Float32Array, lo); R.set(res.R.data as Float32Array, lo);
  }
  const maskedJ: number[] = [];
  for (let j = 0; j < n; j++) {
    if (masked(j)) { maskedJ.push(j); continue; }
    const i = at(j);
    // a tie for the top: the JS scan gives margin 0
    const p2 = NLT[j] < K - 1 ? P1[j] : P2[j];
    out.best[i] = I[j]; out.prob[i] = P1[j]; out.margin[i] = P1[j] - p2;
  }
  const isMasked = new Uint8Array(n);
  if (maskedJ.length) {
    // rows with rejected labels: the JS reference (exact renormalisation over the classes left)
    const sub = new Float32Array(maskedJ.length * d);
    maskedJ.forEach((j, q) => sub.set(Xr.subarray(j * d, j * d + d), q * d));
    const pm = predictAll(sub, maskedJ.length, model, (q) => masked(maskedJ[q]));
    maskedJ.forEach((j, q) => { const i = at(j); out.best[i] = pm.best[q]; out.prob[i] = pm.prob[q]; out.margin[i] = pm.margin[q]; isMasked[j] = 1; });
  }
  // open-set gate: cosine to the predicted class's centroid
  for (let j = 0; j < n; j++) {
    const i = at(j), c = out.best[i];
    if (c < 0 || !(out.prob[i] > gate.cap)) continue;
    // the graph's SG is for the unmasked best class; a masked row's best may be another one
    let cos = isMasked[j] ? cosine(Xr, d, j, gate.cent, c) : R[j] > 0 ? SG[j] / R[j] : 0;
    // near the radius (the class's own boundary examples sit exactly on it) decide in float64 like the JS gate
    if (!isMasked[j] && Math.abs(cos - gate.radius[c]) < 1e-4) cos = cosine(Xr, d, j, gate.cent, c);
    if (cos < gate.radius[c]) out.prob[i] = gate.cap;
  }
}

/**
 * Runs the prediction graph a few times on `n` rows with a zero model of K classes. The first runs at a new
 * size are several times slower (fresh memory for the intermediates: page faults until the allocator reuses
 * it); a thread warmed this way predicts at full speed from its first real retrain.
 */
export async function warmPredict(predict: ort.InferenceSession, Xr: Float32Array, n: number, d: number, K: number, runs = 3): Promise<void> {
  if (n === 0 || K < 2) return;
  n = Math.min(n, PREDICT_CHUNK);
  const X = plain(Xr.subarray(0, n * d));
  for (let r = 0; r < runs; r++) {
    await predict.run({
      X: new ort.Tensor('float32', X, [n, d]), W: new ort.Tensor('float32', new Float32Array(K * d), [K, d]), B: new ort.Tensor('float32', new Float32Array(K), [K]),
      T: new ort.Tensor('float32', new Float32Array([1]), [1]), C: new ort.Tensor('float32', new Float32Array(K * d), [K, d]),
    });
  }
}

/** cosine of row j of X with centroid c (float64, the same sums as learn.worker.ts cosTo) */
function cosine(X: Float32Array, d: number, j: number, cent: Float64Array, c: number): number {
  let s = 0, q = 0;
  const o = j * d;
  for (let a = 0; a < d; a++) { s += X[o + a] * cent[c * d + a]; q += X[o + a] ** 2; }
  return q > 0 ? s / Math.sqrt(q) : 0;
}
