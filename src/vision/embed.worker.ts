// Worker thread (piscina): decode + preprocess + onnxruntime inference for a few photos at a time.
// Sessions are cached per model file; each session uses `intraThreads` threads so that
// workers × intra-op threads <= cores.
import fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { DecodedPixels } from '../library/stages.ts';
import type { ResolvedSet } from './registry.ts';
import { combineParts, decodeForEmbedding, fitPixels, toTensorData } from './preprocess.ts';

export interface EmbedTask {
  set: ResolvedSet;
  items: { photoId: number; path: string; pixels?: DecodedPixels }[];
  intraThreads: number;
}
export interface EmbedResult {
  photoId: number;
  vector?: Float32Array;
  /** scores of the set's tag output, in the order of its labels */
  tags?: Float32Array;
  error?: string;
}
export interface EmbedTaskResult { results: EmbedResult[]; modelError?: string }

const sessions = new Map<string, Promise<ort.InferenceSession>>();

function session(file: string, intra: number): Promise<ort.InferenceSession> {
  let st: fs.Stats;
  try { st = fs.statSync(file); } catch { return Promise.reject(new Error(`model file missing: ${file}`)); }
  const key = `${file}|${st.size}|${st.mtimeMs}|${intra}`;
  let s = sessions.get(key);
  if (!s) {
    s = ort.InferenceSession.create(file, { intraOpNumThreads: intra, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
    s.catch(() => sessions.delete(key));
    sessions.set(key, s);
  }
  return s;
}

export default async function embed(task: EmbedTask): Promise<EmbedTaskResult> {
  const { set } = task;
  const sess: ort.InferenceSession[] = [];
  for (const m of set.models) {
    try { sess.push(await session(m.file, task.intraThreads)); } catch (e) {
      return { results: [], modelError: `Model ${m.id} (${m.file}) cannot be loaded: ${(e as Error).message.split('\n')[0]}. The file is corrupt or not an ONNX model; rebuild (npm run build:models) or reinstall it.` };
    }
  }
  const maxSide = Math.max(...set.models.map((m) => Math.max(m.manifest.input.width, m.manifest.input.height)));
  const results: EmbedResult[] = [];
  for (const it of task.items) {
    try {
      const px = it.pixels ?? await decodeForEmbedding(it.path, maxSide);
      const parts: Float32Array[] = [];
      let tags: Float32Array | undefined;
      for (let k = 0; k < set.models.length; k++) {
        const m = set.models[k];
        const { width, height, layout } = m.manifest.input;
        const rgb = await fitPixels(px, width, height, m.fit);
        const data = new Float32Array(width * height * 3);
        toTensorData(rgb, m.manifest, data);
        const dims = layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3];
        const s = sess[k];
        const inputName = m.manifest.input.name ?? s.inputNames[0];
        const out = await s.run({ [inputName]: new ort.Tensor('float32', data, dims) }, m.outputs);
        for (const o of m.outputs) {
          const t = out[o];
          if (!t) throw new Error(`model ${m.id} gave no output ${o}`);
          const v = Float32Array.from(t.data as Float32Array);
          parts.push(v);
          if (set.tags && set.tags.model === m.id && set.tags.output === o) tags = Float32Array.from(v);
        }
      }
      const vector = combineParts(parts);
      if (vector.length !== set.dim) throw new Error(`embedding has ${vector.length} dimensions, the model set declares ${set.dim}`);
      for (const x of vector) if (!Number.isFinite(x)) throw new Error('embedding has non-finite values');
      results.push({ photoId: it.photoId, vector, tags });
    } catch (e) {
      results.push({ photoId: it.photoId, error: (e as Error).message.split('\n')[0] });
    }
  }
  return { results };
}
