// Figures for the README (Default models): build time, conversion fidelity (max |ONNX - TF.js| on the recorded references) and
// raw onnxruntime-node throughput on ready tensors, printed beside the reference figures of issue 3.
//   npx tsx src/vision/convert/measure.ts [--threads 2] [--seconds 8] [--batch 1]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { readManifest } from '../manifest.ts';
import type { ModelManifest } from '../manifest.ts';
import { buildModels } from './build.ts';
import { syntheticImage } from './synthetic.ts';

/** measured in issue 3 on this kind of machine (2 cores, onnxruntime-node 1.30, 2 threads, batch 1) */
const REFERENCE_IMG_S: Record<string, number> = { mobilenet_v2_mid: 125, centernet: 42 };

function input(m: ModelManifest, seed: number, batch: number): Float32Array {
  const { height, width, normalisation } = m.input;
  const one = syntheticImage(seed, height, width).map((v) => v * (normalisation.scale as number) + (normalisation.offset as number));
  const out = new Float32Array(one.length * batch);
  for (let b = 0; b < batch; b++) out.set(one, b * one.length);
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (f: string, d: number) => {
    const i = args.indexOf(f);
    return i >= 0 ? Number(args[i + 1]) : d;
  };
  const threads = opt('--threads', 2);
  const seconds = opt('--seconds', 8);
  const batch = opt('--batch', 1);
  console.log(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (shared machine: other jobs skew the speed)`);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sift-measure-'));
  const t0 = performance.now();
  const built = buildModels({ outDir: out, force: true });
  console.log(`build (both models, from npm sources, in-process): ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  for (const b of built) console.log(`  ${b.id}: ${(b.ms / 1000).toFixed(2)} s, ${(b.manifest.bytes! / 1e6).toFixed(1)} MB`);

  const refsFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/vision/fixtures/model-refs.json');
  const refs = JSON.parse(fs.readFileSync(refsFile, 'utf8')) as { models: Record<string, { seeds: number[]; outputs: Record<string, number[][]> }> };
  for (const b of built) {
    const m = readManifest(out, b.id);
    const sess = await ort.InferenceSession.create(m.modelPath, { intraOpNumThreads: threads, interOpNumThreads: 1 });
    const ref = refs.models[m.id];
    const worst: Record<string, number> = {};
    for (let k = 0; k < ref.seeds.length; k++) {
      const r = await sess.run({ [m.input.name]: new ort.Tensor('float32', input(m, ref.seeds[k], 1), [1, m.input.height, m.input.width, 3]) });
      for (const o of m.outputs) {
        const a = r[o.name].data as Float32Array;
        const e = ref.outputs[o.name][k];
        for (let i = 0; i < e.length; i++) worst[o.name] = Math.max(worst[o.name] ?? 0, Math.abs(a[i] - e[i]));
      }
    }
    console.log(`fidelity ${m.id}: max |ONNX - TF.js| ${Object.entries(worst).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ')} (${ref.seeds.length} inputs; test bound 1e-4)`);

    const x = new ort.Tensor('float32', input(m, 11, batch), [batch, m.input.height, m.input.width, 3]);
    await sess.run({ [m.input.name]: x }); // warm-up
    let n = 0;
    const s0 = performance.now();
    while (performance.now() - s0 < seconds * 1000) {
      await sess.run({ [m.input.name]: x });
      n += batch;
    }
    const rate = n / ((performance.now() - s0) / 1000);
    console.log(`speed ${m.id}: ${rate.toFixed(1)} img/s (onnxruntime-node, ${threads} threads, batch ${batch}, ready tensors) | reference (issue 3): ${REFERENCE_IMG_S[m.id] ?? '?'} img/s`);
    await sess.release();
    // CPU time per image with one thread: much less sensitive to other jobs on a shared machine than wall time
    const one = await ort.InferenceSession.create(m.modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    await one.run({ [m.input.name]: x });
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    let k = 0;
    while (performance.now() - w0 < seconds * 1000) {
      await one.run({ [m.input.name]: x });
      k += batch;
    }
    const cpu = process.cpuUsage(c0);
    const cpuMs = (cpu.user + cpu.system) / 1000 / k;
    console.log(`cpu ${m.id}: ${cpuMs.toFixed(1)} CPU-ms per image (1 thread) => about ${(2000 / cpuMs).toFixed(0)} img/s on 2 idle cores (estimate)`);
    await one.release();
  }
  console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  fs.rmSync(out, { recursive: true, force: true });
}

await main();
