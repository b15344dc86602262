// Record reference outputs of the default models computed by TF.js itself (pure-JS CPU backend, @tensorflow/tfjs)
// from the original TF.js artifacts in the npm packages, on deterministic synthetic inputs. Writes
// test/vision/fixtures/model-refs.json, which test/vision/convert.test.ts compares the ONNX conversion against.
//   npx tsx scripts/record-model-refs.ts
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { verifySource } from '../src/vision/convert/build.ts';
import { MODEL_SPECS } from '../src/vision/convert/models.ts';
import { loadTfModel } from '../src/vision/convert/tfjs.ts';
import { syntheticImage } from '../src/vision/convert/synthetic.ts';

export const SEEDS = [1, 2, 3];
const OUT = path.resolve(import.meta.dirname, '../test/vision/fixtures/model-refs.json');

await tf.setBackend('cpu');
const models: Record<string, unknown> = {};
for (const spec of MODEL_SPECS) {
  const src = verifySource(spec);
  const art = loadTfModel(path.join(src.dir, spec.modelFile), spec.shardSuffix);
  // TF.js decodes the (quantised / float16) weights itself from the raw shard bytes
  const model = await tf.loadGraphModel(tf.io.fromMemory({
    modelTopology: art.json.modelTopology as never,
    weightSpecs: art.json.weightsManifest.flatMap((g) => g.weights) as never,
    weightData: art.weightData.slice().buffer,
  }));
  const scale = typeof spec.input.normalisation.scale === 'number' ? spec.input.normalisation.scale : 1;
  const offset = typeof spec.input.normalisation.offset === 'number' ? spec.input.normalisation.offset : 0;
  const outputs: Record<string, number[][]> = Object.fromEntries(spec.outputs.map((o) => [o.name, []]));
  for (const seed of SEEDS) {
    const img = syntheticImage(seed, spec.height, spec.width);
    const x = tf.tensor4d(img.map((v) => v * scale + offset), [1, spec.height, spec.width, 3]);
    const t0 = performance.now();
    const ys = model.execute({ [spec.tfInput]: x }, spec.outputs.map((o) => o.node)) as tf.Tensor[];
    spec.outputs.forEach((o, i) => {
      const r = o.reduce === 'gap' ? tf.mean(ys[i], [1, 2]) : tf.max(ys[i], [1, 2]);
      outputs[o.name].push(Array.from(r.dataSync(), (v) => Number(v.toPrecision(7))));
      r.dispose();
    });
    tf.dispose([x, ...ys]);
    console.log(`${spec.id} seed ${seed}: ${(performance.now() - t0).toFixed(0)} ms`);
  }
  models[spec.id] = { source: `${spec.pkg}@${src.version}`, seeds: SEEDS, outputs };
  model.dispose();
}
const doc = {
  about: 'Reference outputs computed by TF.js (pure-JS CPU backend) from the original TF.js models on synthetic images ' +
    '(src/vision/convert/synthetic.ts, seeds below, batch 1, input normalised as in the manifest); written by scripts/record-model-refs.ts',
  tfjs: tf.version.tfjs,
  models,
};
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, JSON.stringify(doc) + '\n');
console.log(`wrote ${OUT} (${fs.statSync(OUT).size} bytes)`);
