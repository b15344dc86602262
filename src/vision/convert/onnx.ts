// A small ONNX graph writer: build a graph node by node, then serialise it to an ONNX ModelProto (bytes).
// Uses the ONNX protobuf definitions compiled for protobufjs (npm package `onnx-proto`). No Python.
//
//   const g = new OnnxGraph('tiny');
//   g.input('x', [null, 3], 'float32');
//   g.init('w', new Float32Array([...]), [3, 2]);
//   g.node('MatMul', ['x', 'w'], ['y']);
//   g.output('y', [null, 2]);
//   fs.writeFileSync('tiny.onnx', g.toBytes());
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const ONNX_OPSET = 13;
/** IR version 7 is the one that goes with opset 13 */
export const ONNX_IR_VERSION = 7;

export type OnnxDType = 'float32' | 'float16' | 'int64' | 'int32' | 'uint8' | 'bool';
const DTYPE: Record<OnnxDType, number> = { float32: 1, uint8: 2, int32: 6, int64: 7, bool: 9, float16: 10 };

/** a dimension: a fixed size, or a symbolic name / null for "any" */
export type Dim = number | string | null;
export type AttrValue = number | string | number[] | string[] | Float32Array | { float: number } | { floats: number[] } | { ints: number[] };

const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { name, type: ATTR.INT, i: v } : { name, type: ATTR.FLOAT, f: v };
  }
  if (typeof v === 'string') return { name, type: ATTR.STRING, s: new TextEncoder().encode(v) };
  if (v instanceof Float32Array) return { name, type: ATTR.FLOATS, floats: Array.from(v) };
  if (Array.isArray(v)) {
    if (v.length && typeof v[0] === 'string') return { name, type: ATTR.STRINGS, strings: (v as string[]).map((s) => new TextEncoder().encode(s)) };
    const nums = v as number[];
    if (nums.every((n) => Number.isInteger(n))) return { name, type: ATTR.INTS, ints: nums };
    return { name, type: ATTR.FLOATS, floats: nums };
  }
  if ('float' in v) return { name, type: ATTR.FLOAT, f: v.float };
  if ('floats' in v) return { name, type: ATTR.FLOATS, floats: v.floats };
  return { name, type: ATTR.INTS, ints: v.ints };
}

function valueInfo(name: string, shape: Dim[] | undefined, dtype: OnnxDType): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DTYPE[dtype],
        shape: shape ? { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d ?? 'N' })) } : undefined,
      },
    },
  };
}

function rawBytes(data: Float32Array | BigInt64Array | Int32Array | Uint8Array | Uint16Array): Uint8Array {
  // copy: the source may be a view into a larger buffer; ONNX raw_data is little-endian (as are x86/ARM)
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

export class OnnxGraph {
  private nodes: onnxProto.onnx.INodeProto[] = [];
  private inits: onnxProto.onnx.ITensorProto[] = [];
  private inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private names = new Set<string>();
  private counter = 0;

  constructor(readonly name: string, readonly opts: { producer?: string; docString?: string; metadata?: Record<string, string> } = {}) {}

  /** a fresh tensor name with the given prefix */
  fresh(prefix: string): string {
    let n: string;
    do n = `${prefix}__${this.counter++}`; while (this.names.has(n));
    this.names.add(n);
    return n;
  }

  input(name: string, shape: Dim[], dtype: OnnxDType = 'float32'): string {
    this.names.add(name);
    this.inputs.push(valueInfo(name, shape, dtype));
    return name;
  }

  output(name: string, shape?: Dim[], dtype: OnnxDType = 'float32'): string {
    this.outputs.push(valueInfo(name, shape, dtype));
    return name;
  }

  /** a constant tensor (initializer); float32 unless the data says otherwise */
  init(name: string, data: Float32Array | BigInt64Array | Int32Array | Uint8Array | number[], dims: number[], dtype?: OnnxDType): string {
    this.names.add(name);
    let arr: Float32Array | BigInt64Array | Int32Array | Uint8Array;
    let dt: OnnxDType;
    if (Array.isArray(data)) {
      dt = dtype ?? 'float32';
      arr = dt === 'int64' ? BigInt64Array.from(data.map((x) => BigInt(x))) : dt === 'int32' ? Int32Array.from(data) : Float32Array.from(data);
    } else {
      arr = data;
      dt = dtype ?? (data instanceof BigInt64Array ? 'int64' : data instanceof Int32Array ? 'int32' : data instanceof Uint8Array ? 'uint8' : 'float32');
    }
    const n = dims.reduce((a, b) => a * b, 1);
    if (arr.length !== n) throw new Error(`initializer ${name}: ${arr.length} values for dims [${dims.join(',')}] (${n})`);
    this.inits.push({ name, dims, dataType: DTYPE[dt], rawData: rawBytes(arr) });
    return name;
  }

  /** an int64 constant (shapes, axes, sizes) */
  ints(name: string, values: number[]): string {
    return this.init(name, BigInt64Array.from(values.map((x) => BigInt(x))), [values.length], 'int64');
  }

  /** add a node; returns its first output name */
  node(opType: string, inputs: string[], outputs: string[] | string, attrs: Record<string, AttrValue | undefined> = {}, name?: string): string {
    const outs = typeof outputs === 'string' ? [outputs] : outputs;
    for (const o of outs) this.names.add(o);
    const attribute_ = Object.entries(attrs).filter(([, v]) => v !== undefined).map(([k, v]) => attribute(k, v as AttrValue));
    this.nodes.push({ opType, input: inputs, output: outs, name: name ?? `${opType}_${this.nodes.length}`, attribute: attribute_ });
    return outs[0];
  }

  /** add a node with a fresh output name derived from `prefix` */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}, prefix?: string): string {
    return this.node(opType, inputs, this.fresh(prefix ?? opType), attrs);
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  toModel(): onnxProto.onnx.IModelProto {
    return {
      irVersion: ONNX_IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      producerName: this.opts.producer ?? 'sift',
      producerVersion: '1',
      docString: this.opts.docString,
      metadataProps: Object.entries(this.opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: { name: this.name, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs },
    };
  }

  /** serialised ModelProto; deterministic for the same sequence of calls */
  toBytes(): Uint8Array {
    const msg = onnx.ModelProto.fromObject(this.toModel());
    return onnx.ModelProto.encode(msg).finish();
  }
}

/** decode an ONNX file (for tests and inspection) */
export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
