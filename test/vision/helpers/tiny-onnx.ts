// Tiny ONNX image models for tests and fallbacks: written with protobufjs' Writer (field numbers from
// onnx.proto3), deterministic random weights. They stand in for the converted default models when these
// are not built, with the same input/output names, layouts and normalisation as the real ones.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import protobuf from 'protobufjs';

type W = protobuf.Writer;
const LEN = 2, VARINT = 0, I32 = 5;
const tag = (w: W, f: number, wt: number) => w.uint32((f << 3) | wt);
const str = (w: W, f: number, s: string) => tag(w, f, LEN).string(s);
const int = (w: W, f: number, v: number) => tag(w, f, VARINT).int64(v);
const msg = (w: W, f: number, body: (w: W) => void) => { tag(w, f, LEN).fork(); body(w); w.ldelim(); };

export interface Attr { name: string; i?: number; f?: number; ints?: number[] }
export interface NodeDef { op: string; inputs: string[]; outputs: string[]; attrs?: Attr[] }
export interface TensorDef { name: string; dims: number[]; data: Float32Array }
export interface IoDef { name: string; shape: (number | string)[] }

function writeTensor(w: W, t: TensorDef) {
  for (const d of t.dims) int(w, 1, d);
  int(w, 2, 1); // FLOAT
  str(w, 8, t.name);
  tag(w, 9, LEN).bytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}
function writeIo(w: W, io: IoDef) {
  str(w, 1, io.name);
  msg(w, 2, (w) => msg(w, 1, (w) => {
    int(w, 1, 1);
    msg(w, 2, (w) => { for (const d of io.shape) msg(w, 1, (w) => (typeof d === 'number' ? int(w, 1, d) : str(w, 2, d))); });
  }));
}

export function writeOnnx(g: { inputs: IoDef[]; outputs: IoDef[]; nodes: NodeDef[]; inits: TensorDef[] }): Uint8Array {
  const w = protobuf.Writer.create();
  int(w, 1, 7); // ir_version
  str(w, 2, 'sift-test');
  msg(w, 7, (w) => {
    g.nodes.forEach((n, k) => msg(w, 1, (w) => {
      for (const i of n.inputs) str(w, 1, i);
      for (const o of n.outputs) str(w, 2, o);
      str(w, 3, `n${k}`);
      str(w, 4, n.op);
      for (const a of n.attrs ?? []) msg(w, 5, (w) => {
        str(w, 1, a.name);
        if (a.f !== undefined) { tag(w, 2, I32).float(a.f); int(w, 20, 1); }
        else if (a.i !== undefined) { int(w, 3, a.i); int(w, 20, 2); }
        else if (a.ints) { for (const v of a.ints) int(w, 8, v); int(w, 20, 7); }
      });
    }));
    str(w, 2, 'g');
    for (const t of g.inits) msg(w, 5, (w) => writeTensor(w, t));
    for (const i of g.inputs) msg(w, 11, (w) => writeIo(w, i));
    for (const o of g.outputs) msg(w, 12, (w) => writeIo(w, o));
  });
  msg(w, 8, (w) => { str(w, 1, ''); int(w, 2, 13); });
  return w.finish();
}

function rand(seed: number) {
  let a = seed >>> 0;
  return () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}
function weights(n: number, seed: number, scale: number): Float32Array {
  const r = rand(seed); const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * scale;
  return a;
}

/** A conv -> relu -> conv -> relu -> GAP feature extractor on an NCHW tensor named `x`. */
function features(prefix: string, x: string, c: number, out: string, seed: number, k1: number, s1: number): { nodes: NodeDef[]; inits: TensorDef[] } {
  const c1 = 12;
  return {
    nodes: [
      { op: 'Conv', inputs: [x, `${prefix}w1`, `${prefix}b1`], outputs: [`${prefix}h1`], attrs: [{ name: 'kernel_shape', ints: [k1, k1] }, { name: 'strides', ints: [s1, s1] }] },
      { op: 'Relu', inputs: [`${prefix}h1`], outputs: [`${prefix}r1`] },
      { op: 'Conv', inputs: [`${prefix}r1`, `${prefix}w2`, `${prefix}b2`], outputs: [`${prefix}h2`], attrs: [{ name: 'kernel_shape', ints: [3, 3] }, { name: 'strides', ints: [2, 2] }] },
      { op: 'Relu', inputs: [`${prefix}h2`], outputs: [`${prefix}r2`] },
      { op: 'GlobalAveragePool', inputs: [`${prefix}r2`], outputs: [`${prefix}p`] },
      { op: 'Flatten', inputs: [`${prefix}p`], outputs: [out] },
    ],
    inits: [
      { name: `${prefix}w1`, dims: [c1, 3, k1, k1], data: weights(c1 * 3 * k1 * k1, seed, 1) },
      { name: `${prefix}b1`, dims: [c1], data: weights(c1, seed + 1, 0.1) },
      { name: `${prefix}w2`, dims: [c, c1, 3, 3], data: weights(c * c1 * 9, seed + 2, 0.5) },
      { name: `${prefix}b2`, dims: [c], data: weights(c, seed + 3, 0.1) },
    ],
  };
}

export const TINY_LABELS = ['person', 'cat', 'dog', 'car', 'pizza'];

/**
 * Writes tiny stand-ins for the default models into `dir`: mobilenet_v2_mid (NCHW 224, x/255, output feat)
 * and centernet (NHWC 512, 0..255, outputs presence + feat), each with a manifest `<id>.json`.
 */
export function writeTinyModels(dir: string, opts: { seed?: number; midId?: string; cnId?: string } = {}): void {
  fs.mkdirSync(dir, { recursive: true });
  const seed = opts.seed ?? 1;
  const midId = opts.midId ?? 'mobilenet_v2_mid', cnId = opts.cnId ?? 'centernet';
  // mid: input [N,3,224,224] already scaled to 0..1
  const mf = features('m', 'input', 16, 'feat', seed, 5, 4);
  const mid = writeOnnx({ inputs: [{ name: 'input', shape: ['N', 3, 224, 224] }], outputs: [{ name: 'feat', shape: ['N', 16] }], nodes: mf.nodes, inits: mf.inits });
  writeModel(dir, midId, mid, { size: [224, 224], layout: 'NCHW', scale: 1 / 255, outputs: [{ name: 'feat', dim: 16 }] });
  // centernet: input [1,512,512,3] 0..255 -> /255 -> NCHW
  const cf = features('c', 'xn', 8, 'feat', seed + 10, 8, 8);
  const nodes: NodeDef[] = [
    { op: 'Mul', inputs: ['input', 'inv255'], outputs: ['xs'] },
    { op: 'Transpose', inputs: ['xs'], outputs: ['xn'], attrs: [{ name: 'perm', ints: [0, 3, 1, 2] }] },
    ...cf.nodes,
    { op: 'Conv', inputs: ['cr1', 'pw', 'pb'], outputs: ['ph'], attrs: [{ name: 'kernel_shape', ints: [1, 1] }] },
    { op: 'GlobalMaxPool', inputs: ['ph'], outputs: ['pm'] },
    { op: 'Flatten', inputs: ['pm'], outputs: ['pl'] },
    { op: 'Sigmoid', inputs: ['pl'], outputs: ['presence'] },
  ];
  const cn = writeOnnx({
    inputs: [{ name: 'input', shape: [1, 512, 512, 3] }],
    outputs: [{ name: 'presence', shape: [1, TINY_LABELS.length] }, { name: 'feat', shape: [1, 8] }],
    nodes, inits: [...cf.inits, { name: 'inv255', dims: [], data: new Float32Array([1 / 255]) },
      { name: 'pw', dims: [TINY_LABELS.length, 12, 1, 1], data: weights(TINY_LABELS.length * 12, seed + 20, 1) },
      { name: 'pb', dims: [TINY_LABELS.length], data: weights(TINY_LABELS.length, seed + 21, 0.5) }],
  });
  writeModel(dir, cnId, cn, { size: [512, 512], layout: 'NHWC', scale: 1, outputs: [{ name: 'presence', dim: TINY_LABELS.length, labels: TINY_LABELS }, { name: 'feat', dim: 8 }] });
}

export interface TinyIo {
  size: [number, number]; layout: 'NCHW' | 'NHWC'; scale: number; resize?: 'stretch' | 'letterbox' | 'center-crop' | 'any';
  outputs: { name: string; dim: number; labels?: string[] }[];
}

/** Writes `<id>.onnx` and its manifest (the converter's format, src/vision/manifest.ts) into dir. */
export function writeModel(dir: string, id: string, bytes: Uint8Array, io: TinyIo): string {
  const file = path.join(dir, `${id}.onnx`);
  fs.writeFileSync(file, bytes);
  const manifest = {
    format: 1, id, version: '1', source: 'sift-test', file: `${id}.onnx`,
    sha256: crypto.createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length, opset: 13,
    input: { name: 'input', width: io.size[0], height: io.size[1], layout: io.layout, channels: 3, colorOrder: 'RGB',
      normalisation: { scale: io.scale, offset: 0 }, dtype: 'float32', resize: io.resize ?? 'any', dynamicBatch: io.layout === 'NCHW' },
    outputs: io.outputs.map((o) => ({ ...o, kind: o.labels ? 'scores' : 'embedding' })),
  };
  fs.writeFileSync(path.join(dir, `${id}.json`), JSON.stringify(manifest, null, 2));
  return file;
}
