// Model conversion (TF.js in npm packages -> ONNX): numerics against TF.js reference outputs, determinism,
// up-to-date skipping, clear errors for missing/changed source packages, manifest sha256 checks, the ONNX writer,
// and the build-models script's exit codes. Uses the real source packages (dev dependencies) and onnxruntime-node.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModels, DEFAULT_PACKAGES_DIR, SourcePackageError, verifySource } from '../../src/vision/convert/build.ts';
import { MODEL_SPECS, modelSpec } from '../../src/vision/convert/models.ts';
import { decodeModel, OnnxGraph } from '../../src/vision/convert/onnx.ts';
import { syntheticImage } from '../../src/vision/convert/synthetic.ts';
import { ModelFileError, readManifest, writeManifest } from '../../src/vision/manifest.ts';
import type { ModelManifest } from '../../src/vision/manifest.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TOL = 1e-4;

interface Refs {
  tfjs: string;
  models: Record<string, { source: string; seeds: number[]; outputs: Record<string, number[][]> }>;
}
const refs = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'fixtures/model-refs.json'), 'utf8')) as Refs;

function tmpdir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `sift-convert-${tag}-`));
}

function normalised(m: ModelManifest, seed: number, batch = 1): Float32Array {
  const { height, width, normalisation } = m.input;
  const one = syntheticImage(seed, height, width).map((v) => v * (normalisation.scale as number) + (normalisation.offset as number));
  const out = new Float32Array(one.length * batch);
  for (let b = 0; b < batch; b++) out.set(one, b * one.length);
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

let outDir: string;
let built: ReturnType<typeof buildModels>;
const sessions = new Map<string, ort.InferenceSession>();

beforeAll(async () => {
  outDir = tmpdir('out');
  built = buildModels({ outDir });
  for (const r of built) sessions.set(r.id, await ort.InferenceSession.create(path.join(outDir, r.manifest.file), { intraOpNumThreads: 2 }));
});

describe('model conversion numerics (ONNX vs TF.js reference outputs)', () => {
  it('builds every default model with a valid manifest', () => {
    expect(built.map((r) => r.id).sort()).toEqual(MODEL_SPECS.map((s) => s.id).sort());
    for (const r of built) {
      expect(r.status).toBe('built');
      const m = readManifest(outDir, r.id);
      expect(m.opset).toBe(13);
      expect(m.source).toBe(refs.models[r.id].source);
      expect(sessions.get(r.id)!.inputNames).toEqual([m.input.name]);
      expect([...sessions.get(r.id)!.outputNames].sort()).toEqual(m.outputs.map((o) => o.name).sort());
    }
    const cn = readManifest(outDir, 'centernet');
    const presence = cn.outputs.find((o) => o.name === 'presence')!;
    expect(presence.kind).toBe('scores');
    expect(presence.labels).toHaveLength(80);
    expect(presence.labels![15]).toBe('cat');
    expect(presence.labels![16]).toBe('dog');
    expect(cn.outputs.find((o) => o.name === 'feat')!.dim).toBe(120);
    expect(readManifest(outDir, 'mobilenet_v2_mid').outputs.find((o) => o.name === 'feat')!.dim).toBe(224);
  });

  for (const spec of MODEL_SPECS) {
    it(`${spec.id}: every output matches TF.js within ${TOL} on each reference input`, async () => {
      const ref = refs.models[spec.id];
      const m = readManifest(outDir, spec.id);
      const sess = sessions.get(spec.id)!;
      expect(ref.seeds.length).toBeGreaterThanOrEqual(3);
      for (let k = 0; k < ref.seeds.length; k++) {
        const x = new ort.Tensor('float32', normalised(m, ref.seeds[k]), [1, m.input.height, m.input.width, 3]);
        const r = await sess.run({ [m.input.name]: x });
        for (const o of m.outputs) {
          expect(r[o.name].dims).toEqual([1, o.dim]);
          const d = maxAbsDiff(r[o.name].data as Float32Array, ref.outputs[o.name][k]);
          expect(d, `${spec.id}.${o.name} seed ${ref.seeds[k]}`).toBeLessThanOrEqual(TOL);
        }
      }
    });
  }

  it('different inputs give clearly different outputs (the comparison is not vacuous)', () => {
    for (const spec of MODEL_SPECS) {
      for (const o of spec.outputs) {
        const [a, b] = refs.models[spec.id].outputs[o.name];
        expect(maxAbsDiff(a, b), `${spec.id}.${o.name}`).toBeGreaterThan(100 * TOL);
      }
    }
  });
});

describe('determinism', () => {
  it('the same sources convert to byte-identical ONNX files', () => {
    const again = tmpdir('again');
    const r2 = buildModels({ outDir: again });
    for (const r of r2) {
      expect(r.manifest.sha256).toBe(built.find((b) => b.id === r.id)!.manifest.sha256);
      expect(fs.readFileSync(path.join(again, r.manifest.file)).equals(fs.readFileSync(path.join(outDir, r.manifest.file)))).toBe(true);
    }
  });

  it('the same input gives identical outputs, and a batch of 2 gives the batch-1 result for each row', async () => {
    const m = readManifest(outDir, 'mobilenet_v2_mid');
    const sess = sessions.get(m.id)!;
    const shape1 = [1, m.input.height, m.input.width, 3];
    const a = await sess.run({ input: new ort.Tensor('float32', normalised(m, 7), shape1) });
    const b = await sess.run({ input: new ort.Tensor('float32', normalised(m, 7), shape1) });
    expect(Array.from(a.feat.data as Float32Array)).toEqual(Array.from(b.feat.data as Float32Array));
    const batch = await sess.run({ input: new ort.Tensor('float32', normalised(m, 7, 2), [2, m.input.height, m.input.width, 3]) });
    expect(batch.feat.dims).toEqual([2, 224]);
    const rows = batch.feat.data as Float32Array;
    expect(maxAbsDiff(rows.subarray(0, 224), a.feat.data as Float32Array)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(rows.subarray(224), a.feat.data as Float32Array)).toBeLessThanOrEqual(1e-5);
  });

  it('centernet also takes a batch (its resize sizes are computed from the input shape)', async () => {
    const m = readManifest(outDir, 'centernet');
    const ref = refs.models.centernet;
    const r = await sessions.get(m.id)!.run({ input: new ort.Tensor('float32', normalised(m, ref.seeds[0], 2), [2, 512, 512, 3]) });
    expect(r.presence.dims).toEqual([2, 80]);
    const p = r.presence.data as Float32Array;
    expect(maxAbsDiff(p.subarray(0, 80), ref.outputs.presence[0])).toBeLessThanOrEqual(TOL);
    expect(maxAbsDiff(p.subarray(80), ref.outputs.presence[0])).toBeLessThanOrEqual(TOL);
  });

  it('a second build skips up-to-date models; --force and a changed output rebuild them', () => {
    const r = buildModels({ outDir });
    expect(r.map((x) => x.status)).toEqual(r.map(() => 'up-to-date'));
    const forced = buildModels({ outDir, ids: ['centernet'], force: true });
    expect(forced[0].status).toBe('built');
    // a damaged ONNX file is not "up to date"
    const f = path.join(outDir, 'centernet.onnx');
    const bytes = fs.readFileSync(f);
    bytes[bytes.length - 10] ^= 0xff;
    fs.writeFileSync(f, bytes);
    expect(buildModels({ outDir, ids: ['centernet'] })[0].status).toBe('built');
    expect(() => readManifest(outDir, 'centernet')).not.toThrow();
  });
});

/** copy one model's source files (and package.json) into a fresh fake node_modules */
function copySource(id: string): { packagesDir: string; pkgDir: string } {
  const spec = modelSpec(id);
  const packagesDir = tmpdir('pkgs');
  const src = path.join(DEFAULT_PACKAGES_DIR, ...spec.pkg.split('/'));
  const pkgDir = path.join(packagesDir, ...spec.pkg.split('/'));
  for (const f of ['package.json', ...spec.files.map((x) => x.path)]) {
    fs.mkdirSync(path.dirname(path.join(pkgDir, f)), { recursive: true });
    fs.copyFileSync(path.join(src, f), path.join(pkgDir, f));
  }
  return { packagesDir, pkgDir };
}

describe('source package checks', () => {
  it('an intact copy of the sources converts to the same model', () => {
    const { packagesDir } = copySource('centernet');
    const out = tmpdir('copy');
    const r = buildModels({ outDir: out, packagesDir, ids: ['centernet'] });
    expect(r[0].manifest.sha256).toBe(built.find((b) => b.id === 'centernet')!.manifest.sha256);
  });

  it('a missing source package is a clear error naming the package', () => {
    const empty = tmpdir('empty');
    const out = tmpdir('none');
    let err: unknown;
    try {
      buildModels({ outDir: out, packagesDir: empty });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SourcePackageError);
    expect((err as SourcePackageError).code).toBe('missing');
    expect((err as Error).message).toMatch(/source package nsfwjs is not installed/);
    expect(fs.readdirSync(out)).toEqual([]);
  });

  it('a changed source file is a clear error naming the file; nothing is written', () => {
    const { packagesDir, pkgDir } = copySource('mobilenet_v2_mid');
    const shard = path.join(pkgDir, 'dist/models/mobilenet_v2_mid/group1-shard2of2.min.js');
    const text = fs.readFileSync(shard, 'utf8');
    // change one base64 weight character (still a loadable model: only the pin can tell)
    const i = text.indexOf('"') + 100;
    fs.writeFileSync(shard, text.slice(0, i) + (text[i] === 'A' ? 'B' : 'A') + text.slice(i + 1));
    const out = tmpdir('changed');
    expect(() => buildModels({ outDir: out, packagesDir, ids: ['mobilenet_v2_mid'] }))
      .toThrow(/nsfwjs@4\.3\.0 file dist\/models\/mobilenet_v2_mid\/group1-shard2of2\.min\.js changed/);
    expect(fs.readdirSync(out)).toEqual([]);
  });

  it('a missing source file is a clear error', () => {
    const { packagesDir, pkgDir } = copySource('centernet');
    fs.rmSync(path.join(pkgDir, 'models/centernet.bin'));
    expect(() => verifySource(modelSpec('centernet'), packagesDir)).toThrow(/has no file models\/centernet\.bin/);
  });
});

describe('manifest checks', () => {
  function copyModel(id: string): string {
    const dir = tmpdir('man');
    const m = readManifest(outDir, id);
    fs.copyFileSync(m.path, path.join(dir, `${id}.json`));
    fs.copyFileSync(m.modelPath, path.join(dir, m.file));
    return dir;
  }

  it('readManifest accepts an intact model and returns absolute paths', () => {
    const dir = copyModel('centernet');
    const m = readManifest(dir, 'centernet');
    expect(m.modelPath).toBe(path.join(dir, 'centernet.onnx'));
    expect(m.bytes).toBe(fs.statSync(m.modelPath).size);
  });

  it('a corrupt ONNX file is rejected by its sha256', () => {
    const dir = copyModel('centernet');
    const f = path.join(dir, 'centernet.onnx');
    const b = fs.readFileSync(f);
    b[1000] ^= 1;
    fs.writeFileSync(f, b);
    expect(() => readManifest(dir, 'centernet')).toThrow(ModelFileError);
    expect(() => readManifest(dir, 'centernet')).toThrow(/corrupt or was changed.*build:models/);
    expect(() => readManifest(dir, 'centernet', { verify: false })).not.toThrow();
  });

  it('a missing ONNX file or manifest, bad JSON and an invalid manifest give clear errors', () => {
    const dir = copyModel('centernet');
    fs.rmSync(path.join(dir, 'centernet.onnx'));
    expect(() => readManifest(dir, 'centernet')).toThrow(/ONNX file .*centernet\.onnx is missing/);
    expect(() => readManifest(dir, 'nope')).toThrow(/manifest .*nope\.json is missing/);
    fs.writeFileSync(path.join(dir, 'bad.json'), '{ not json');
    expect(() => readManifest(dir, 'bad')).toThrow(/not valid JSON/);
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'centernet.json'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(dir, 'centernet.json'), JSON.stringify({ ...m, sha256: 'xyz' }));
    expect(() => readManifest(dir, 'centernet')).toThrow(/not a valid model manifest: sha256/);
    const outputs = (m.outputs as { labels?: string[] }[]).map((o) => (o.labels ? { ...o, labels: o.labels.slice(1) } : o));
    expect(() => writeManifest(dir, { ...(m as ModelManifest), outputs } as ModelManifest)).toThrow(/labels must have one entry per dimension/);
  });
});

describe('ONNX graph writer', () => {
  it('writes a small model that onnxruntime runs and that decodes back', async () => {
    const g = new OnnxGraph('tiny');
    g.input('x', ['N', 3]);
    const w = g.init('w', new Float32Array([1, 2, 3, 4, 5, 6]), [3, 2]);
    const y = g.op('MatMul', ['x', w]);
    g.node('Clip', [y, g.init('lo', [0], []), g.init('hi', [6], [])], 'y');
    g.node('ReduceMax', ['y'], 'm', { axes: [1], keepdims: 0 });
    g.output('y', ['N', 2]);
    g.output('m', ['N']);
    const bytes = g.toBytes();
    expect(Buffer.from(g.toBytes()).equals(Buffer.from(bytes))).toBe(true);
    const s = await ort.InferenceSession.create(bytes);
    const r = await s.run({ x: new ort.Tensor('float32', new Float32Array([1, 0, 0, 0, 1, -1]), [2, 3]) });
    expect(Array.from(r.y.data as Float32Array)).toEqual([1, 2, 0, 0]);
    expect(Array.from(r.m.data as Float32Array)).toEqual([2, 0]);
    const decoded = decodeModel(bytes);
    expect(Number(decoded.opsetImport[0].version)).toBe(13);
    expect(decoded.graph!.node!.map((n) => n.opType)).toEqual(['MatMul', 'Clip', 'ReduceMax']);
  });
});

describe('build-models script', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-models.ts', ...args], { cwd: ROOT, encoding: 'utf8' });

  it('exits 1 with a clear message when a source package is missing, 0 with a warning under --postinstall', () => {
    const empty = tmpdir('empty');
    const out = tmpdir('script');
    const r = run('--packages', empty, '--out', out);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/source package nsfwjs is not installed/);
    const p = run('--packages', empty, '--out', out, '--postinstall');
    expect(p.status).toBe(0);
    expect(p.stderr).toMatch(/not built: .*nsfwjs/);
  });

  it('is silent under --postinstall when the models are up to date; usage errors exit 2', () => {
    const p = run('--out', outDir, '--postinstall');
    expect(p.status).toBe(0);
    expect(p.stdout.trim()).toBe('');
    expect(run('--bogus').status).toBe(2);
  });
});
