// Read TF.js graph-model artifacts (model JSON + weight shards) as shipped in npm packages, and decode the
// weights to float32 / int32 arrays exactly as TF.js does (uint8 dequantisation w = q*scale + min, float16 widen).
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

export interface TfAttrValue {
  s?: string;
  i?: string;
  f?: number;
  b?: boolean;
  type?: string;
  shape?: unknown;
  list?: { i?: string[]; s?: string[]; f?: number[] };
  tensor?: unknown;
}
export interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttrValue>;
}
export interface TfWeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool' | string;
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; min?: number; scale?: number; original_dtype?: string };
}
export interface TfModelJson {
  format?: string;
  modelTopology: { node: TfNode[] };
  weightsManifest: { paths: string[]; weights: TfWeightSpec[] }[];
}
export interface TfTensor {
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}
export interface TfModel {
  json: TfModelJson;
  /** all weight bytes, shards concatenated in manifest order (what TF.js's io.fromMemory expects) */
  weightData: Uint8Array;
  weights: Map<string, TfTensor>;
}

export class SourceFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceFormatError';
  }
}

/** Evaluate a UMD-wrapped JS file (as shipped by nsfwjs) and return what it exports, without giving it `require`. */
export function loadUmd(file: string): unknown {
  const code = fs.readFileSync(file, 'utf8');
  const module = { exports: {} as unknown };
  try {
    vm.runInNewContext(code, { module, exports: module.exports }, { filename: file, timeout: 30_000 });
  } catch (e) {
    throw new SourceFormatError(`${file}: cannot evaluate the UMD module (${(e as Error).message})`);
  }
  return module.exports;
}

function readJsonOrUmd(file: string): unknown {
  if (file.endsWith('.js')) return loadUmd(file);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new SourceFormatError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** shard bytes: a .bin file, or a UMD .js file exporting the shard as a base64 string */
function readShard(file: string): Uint8Array {
  if (file.endsWith('.js')) {
    const s = loadUmd(file);
    if (typeof s !== 'string') throw new SourceFormatError(`${file}: expected a base64 string export, got ${typeof s}`);
    return new Uint8Array(Buffer.from(s, 'base64'));
  }
  return new Uint8Array(fs.readFileSync(file));
}

/**
 * Load a TF.js graph model. `modelFile` is the model JSON (or a UMD .js wrapping it); shard paths in the manifest
 * are resolved next to it, trying `shardSuffix` (e.g. '.min.js') when the bare name does not exist.
 */
export function loadTfModel(modelFile: string, shardSuffix = ''): TfModel {
  const json = readJsonOrUmd(modelFile) as TfModelJson;
  if (!json || typeof json !== 'object' || !json.modelTopology?.node || !Array.isArray(json.weightsManifest)) {
    throw new SourceFormatError(`${modelFile}: not a TF.js graph model (no modelTopology.node / weightsManifest)`);
  }
  const dir = path.dirname(modelFile);
  const parts: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      const bare = path.join(dir, p);
      const file = fs.existsSync(bare) ? bare : bare + shardSuffix;
      if (!fs.existsSync(file)) throw new SourceFormatError(`${modelFile}: weight shard ${p} not found in ${dir}`);
      parts.push(readShard(file));
    }
  }
  const total = parts.reduce((a, b) => a + b.length, 0);
  const weightData = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    weightData.set(p, o);
    o += p.length;
  }
  const weights = decodeWeights(json.weightsManifest.flatMap((g) => g.weights), weightData, modelFile);
  return { json, weightData, weights };
}

const f16 = (() => {
  // float16 -> float32, exact
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    table[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return table;
})();

export function decodeWeights(specs: TfWeightSpec[], data: Uint8Array, where: string): Map<string, TfTensor> {
  const out = new Map<string, TfTensor>();
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let off = 0;
  for (const w of specs) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const q = w.quantization;
    const bytesPer = q ? (q.dtype === 'uint8' ? 1 : 2) : w.dtype === 'bool' ? 1 : 4;
    const end = off + n * bytesPer;
    if (end > data.length) throw new SourceFormatError(`${where}: weight data too short for ${w.name} (needs ${end} bytes, have ${data.length})`);
    let t: TfTensor;
    if (q) {
      const f = new Float32Array(n);
      if (q.dtype === 'float16') {
        for (let i = 0; i < n; i++) f[i] = f16[view.getUint16(off + 2 * i, true)];
      } else if (q.dtype === 'uint8' || q.dtype === 'uint16') {
        if (q.scale === undefined || q.min === undefined) throw new SourceFormatError(`${where}: ${w.name}: ${q.dtype} quantisation without scale/min`);
        for (let i = 0; i < n; i++) f[i] = (q.dtype === 'uint8' ? data[off + i] : view.getUint16(off + 2 * i, true)) * q.scale + q.min;
      } else {
        throw new SourceFormatError(`${where}: ${w.name}: unsupported quantisation ${String(q.dtype)}`);
      }
      if (w.dtype === 'int32') t = { dtype: 'int32', shape: w.shape, data: Int32Array.from(f, Math.round) };
      else t = { dtype: 'float32', shape: w.shape, data: f };
    } else if (w.dtype === 'float32') {
      t = { dtype: 'float32', shape: w.shape, data: new Float32Array(data.slice(off, end).buffer) };
    } else if (w.dtype === 'int32') {
      t = { dtype: 'int32', shape: w.shape, data: new Int32Array(data.slice(off, end).buffer) };
    } else {
      throw new SourceFormatError(`${where}: ${w.name}: unsupported weight dtype ${w.dtype}`);
    }
    out.set(w.name, t);
    off = end;
  }
  if (off !== data.length) throw new SourceFormatError(`${where}: weight data has ${data.length - off} unexplained trailing bytes`);
  return out;
}

export function attrString(a: TfAttrValue | undefined): string | undefined {
  return a?.s === undefined ? undefined : Buffer.from(a.s, 'base64').toString('utf8');
}
export function attrStrings(a: TfAttrValue | undefined): string[] {
  return (a?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
}
export function attrInts(a: TfAttrValue | undefined): number[] {
  return (a?.list?.i ?? []).map((s) => Number(s));
}
