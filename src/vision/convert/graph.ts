// TF.js graph model -> ONNX (opset 13). Only the subgraph that the requested outputs need is converted (so a
// detector's box decoding can be cut off). Tensors are kept NCHW inside the ONNX graph; the graph input stays
// NHWC like the TF.js model and is transposed once.
//
// Op mapping (the pitfalls met with these models):
//  - TF 'SAME' padding is asymmetric for even kernels/stride 2 (extra pad at bottom/right) = ONNX auto_pad SAME_UPPER
//  - _FusedConv2D / FusedDepthwiseConv2dNative: BiasAdd -> Conv bias, Relu -> Relu, Relu6 -> Clip(0, 6)
//    (the TF.js converter has already folded FusedBatchNorm into weights + bias offset; a graph with an unfolded
//    FusedBatchNorm is rejected)
//  - conv kernel [kh,kw,cin,cout] -> [cout,cin,kh,kw]; depthwise [kh,kw,cin,mult] -> [cin*mult,1,kh,kw], group=cin
//  - ResizeBilinear(align_corners=false, half_pixel_centers=false) = Resize linear, coordinate mode 'asymmetric'
//  - per-channel constants [C] broadcast on NHWC's last axis -> reshaped to [C,1,1]
import { OnnxGraph } from './onnx.ts';
import type { TfModel, TfNode, TfTensor } from './tfjs.ts';
import { attrInts, attrString, attrStrings } from './tfjs.ts';

export class UnsupportedGraphError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedGraphError';
  }
}

export interface OutputSpec {
  /** ONNX output name */
  name: string;
  /** TF node name (full) whose output is reduced */
  node: string;
  /** gap = mean over H,W; gmp = max over H,W -> [N, C] */
  reduce: 'gap' | 'gmp';
  /** channels of that node (the output is [N, dim]) */
  dim: number;
}

export interface ConvertOptions {
  graphName: string;
  inputName: string;
  /** NHWC spatial size of the input (H, W); the batch is dynamic */
  height: number;
  width: number;
  outputs: OutputSpec[];
  metadata?: Record<string, string>;
  docString?: string;
}

const NHWC_TO_NCHW_AXIS = [0, 2, 3, 1];

/** strip the ':0' output index */
function baseName(input: string): string {
  const i = input.lastIndexOf(':');
  return i > 0 && /^\d+$/.test(input.slice(i + 1)) ? input.slice(0, i) : input;
}

function transposeConvKernel(t: TfTensor): Float32Array {
  const [kh, kw, cin, cout] = t.shape;
  const src = t.data as Float32Array;
  const dst = new Float32Array(src.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) dst[((o * cin + i) * kh + y) * kw + x] = src[((y * kw + x) * cin + i) * cout + o];
  return dst;
}

function transposeDepthwiseKernel(t: TfTensor): Float32Array {
  const [kh, kw, cin, mult] = t.shape;
  const src = t.data as Float32Array;
  const dst = new Float32Array(src.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let c = 0; c < cin; c++)
        for (let m = 0; m < mult; m++) dst[((c * mult + m) * kh + y) * kw + x] = src[((y * kw + x) * cin + c) * mult + m];
  return dst;
}

export function convertGraph(model: TfModel, opts: ConvertOptions): OnnxGraph {
  const nodes = new Map<string, TfNode>();
  for (const n of model.json.modelTopology.node) nodes.set(n.name, n);
  const g = new OnnxGraph(opts.graphName, { metadata: opts.metadata, docString: opts.docString });
  const done = new Map<string, string>(); // TF node name -> ONNX tensor name
  const constNames = new Map<string, string>();

  const constTensor = (name: string): TfTensor => {
    const t = model.weights.get(name);
    if (!t) throw new UnsupportedGraphError(`constant ${name} has no value in the weights manifest`);
    return t;
  };
  const isConst = (name: string) => nodes.get(baseName(name))?.op === 'Const';

  /** a float constant used in an elementwise op against an NCHW activation */
  const broadcastConst = (name: string): string => {
    const key = `bc:${name}`;
    const cached = constNames.get(key);
    if (cached) return cached;
    const t = constTensor(name);
    const data = t.dtype === 'float32' ? (t.data as Float32Array) : Float32Array.from(t.data);
    let dims: number[];
    let values = data;
    if (t.shape.length === 0) dims = [];
    else if (t.shape.length === 1) dims = t.shape[0] === 1 ? [1] : [t.shape[0], 1, 1];
    else if (t.shape.length === 4) {
      const [n, h, w, c] = t.shape;
      if (h !== 1 || w !== 1) {
        values = new Float32Array(data.length);
        for (let b = 0; b < n; b++)
          for (let y = 0; y < h; y++)
            for (let x = 0; x < w; x++)
              for (let ch = 0; ch < c; ch++) values[((b * c + ch) * h + y) * w + x] = data[((b * h + y) * w + x) * c + ch];
      }
      dims = [n, c, h, w];
    } else throw new UnsupportedGraphError(`constant ${name}: cannot broadcast a rank-${t.shape.length} constant in NCHW`);
    const out = g.init(g.fresh('const'), values, dims);
    constNames.set(key, out);
    return out;
  };

  const activation = (x: string, op: string, where: string): string => {
    switch (op) {
      case 'Relu':
        return g.op('Relu', [x]);
      case 'Relu6':
        return g.op('Clip', [x, relu6Lo(), relu6Hi()]);
      case 'Sigmoid':
        return g.op('Sigmoid', [x]);
      default:
        throw new UnsupportedGraphError(`${where}: fused activation ${op} is not supported`);
    }
  };
  let lo6: string | undefined;
  let hi6: string | undefined;
  const relu6Lo = () => (lo6 ??= g.init('relu6_lo', [0], []));
  const relu6Hi = () => (hi6 ??= g.init('relu6_hi', [6], []));

  const conv = (n: TfNode, x: string, depthwise: boolean): string => {
    const inputs = n.input ?? [];
    const fused = attrStrings(n.attr?.fused_ops);
    const fmt = attrString(n.attr?.data_format) ?? 'NHWC';
    if (fmt !== 'NHWC') throw new UnsupportedGraphError(`${n.name}: data_format ${fmt} is not supported`);
    const strides = attrInts(n.attr?.strides);
    const dil = attrInts(n.attr?.dilations);
    const padding = attrString(n.attr?.padding) ?? 'VALID';
    if (padding !== 'SAME' && padding !== 'VALID') throw new UnsupportedGraphError(`${n.name}: padding ${padding} is not supported`);
    const k = constTensor(baseName(inputs[1]));
    if (k.shape.length !== 4) throw new UnsupportedGraphError(`${n.name}: kernel must be rank 4`);
    const [kh, kw, cin, co] = k.shape;
    const w = depthwise ? transposeDepthwiseKernel(k) : transposeConvKernel(k);
    const wDims = depthwise ? [cin * co, 1, kh, kw] : [co, cin, kh, kw];
    const wName = g.init(g.fresh('W'), w, wDims);
    const convInputs = [x, wName];
    const acts: string[] = [];
    let argi = 2;
    for (const f of fused) {
      if (f === 'BiasAdd') {
        const b = constTensor(baseName(inputs[argi++]));
        convInputs.push(g.init(g.fresh('B'), b.data as Float32Array, [b.data.length]));
      } else if (f === 'Relu' || f === 'Relu6') acts.push(f);
      else throw new UnsupportedGraphError(`${n.name}: fused op ${f} is not supported (FusedBatchNorm must be folded by the TF.js converter)`);
    }
    let y = g.op('Conv', convInputs, {
      kernel_shape: [kh, kw],
      strides: [strides[1] ?? 1, strides[2] ?? 1],
      dilations: [dil[1] ?? 1, dil[2] ?? 1],
      group: depthwise ? cin : 1,
      auto_pad: padding === 'SAME' ? 'SAME_UPPER' : 'VALID',
    }, 'conv');
    for (const a of acts) y = activation(y, a, n.name);
    return y;
  };

  const axesOf = (name: string): number[] => {
    const t = constTensor(baseName(name));
    return Array.from(t.data, (a) => NHWC_TO_NCHW_AXIS[a < 0 ? a + 4 : a]);
  };

  const visit = (tfName: string): string => {
    const name = baseName(tfName);
    const have = done.get(name);
    if (have) return have;
    const n = nodes.get(name);
    if (!n) throw new UnsupportedGraphError(`node ${name} not found in the graph`);
    const ins = n.input ?? [];
    const act = (i: number) => (isConst(ins[i]) ? broadcastConst(baseName(ins[i])) : visit(ins[i]));
    let out: string;
    switch (n.op) {
      case 'Placeholder': {
        const x = g.input(opts.inputName, ['N', opts.height, opts.width, 3]);
        out = g.op('Transpose', [x], { perm: [0, 3, 1, 2] }, 'nchw');
        break;
      }
      case 'Identity':
        out = visit(ins[0]);
        break;
      case '_FusedConv2D':
      case 'Conv2D':
        out = conv(n, visit(ins[0]), false);
        break;
      case 'FusedDepthwiseConv2dNative':
      case 'DepthwiseConv2dNative':
        out = conv(n, visit(ins[0]), true);
        break;
      case 'Add':
      case 'AddV2':
        out = g.op('Add', [act(0), act(1)]);
        break;
      case 'Sub':
        out = g.op('Sub', [act(0), act(1)]);
        break;
      case 'Mul':
        out = g.op('Mul', [act(0), act(1)]);
        break;
      case 'Relu':
      case 'Relu6':
      case 'Sigmoid':
        out = activation(visit(ins[0]), n.op, n.name);
        break;
      case 'Mean': {
        const keep = n.attr?.keep_dims?.b ?? false;
        out = g.op('ReduceMean', [visit(ins[0])], { axes: axesOf(ins[1]), keepdims: keep ? 1 : 0 });
        if (!keep) throw new UnsupportedGraphError(`${n.name}: Mean without keep_dims is not supported`);
        break;
      }
      case 'ConcatV2': {
        const axis = constTensor(baseName(ins[ins.length - 1])).data[0];
        out = g.op('Concat', ins.slice(0, -1).map((i) => visit(i)), { axis: NHWC_TO_NCHW_AXIS[axis < 0 ? axis + 4 : axis] });
        break;
      }
      case 'ResizeBilinear': {
        if (n.attr?.align_corners?.b || n.attr?.half_pixel_centers?.b) throw new UnsupportedGraphError(`${n.name}: only align_corners=false, half_pixel_centers=false is supported`);
        const x = visit(ins[0]);
        const size = Array.from(constTensor(baseName(ins[1])).data);
        const shape = g.op('Shape', [x]);
        const nc = g.op('Slice', [shape, g.ints(g.fresh('s0'), [0]), g.ints(g.fresh('s2'), [2])]);
        const sizes = g.op('Concat', [nc, g.ints(g.fresh('hw'), size)], { axis: 0 });
        out = g.op('Resize', [x, '', '', sizes], { mode: 'linear', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
        break;
      }
      default:
        throw new UnsupportedGraphError(`${n.name}: TF op ${n.op} is not supported by the converter`);
    }
    done.set(name, out);
    return out;
  };

  for (const o of opts.outputs) {
    const x = visit(o.node);
    g.node(o.reduce === 'gap' ? 'ReduceMean' : 'ReduceMax', [x], o.name, { axes: [2, 3], keepdims: 0 });
    g.output(o.name, ['N', o.dim]);
  }
  return g;
}
