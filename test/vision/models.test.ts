import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { makeJpeg } from '../helpers/fixtures.ts';
import { VisionRuntime } from '../../src/vision/runtime.ts';
import { DEFAULT_MODEL_SET, ModelError, installUserModel } from '../../src/vision/registry.ts';
import { loadEmbeddings, currentModelSet, pendingPhotos, countEmbeddings } from '../../src/vision/store.ts';
import { writeOnnx, writeTinyModels } from './helpers/tiny-onnx.ts';
import { addPhoto, noJob, visionFixture, tempDir } from './helpers/setup.ts';

const runtimes: VisionRuntime[] = [];
afterAll(async () => { for (const r of runtimes) await r.close(); });
function runtime(f: ReturnType<typeof visionFixture>): VisionRuntime {
  const rt = new VisionRuntime({ db: f.db, modelsDir: f.modelsDir, userModelsDir: f.userDir, threads: 1 });
  runtimes.push(rt);
  return rt;
}

/** A user model: a 4-d colour-mean "embedding" (GlobalAveragePool of the NCHW input + one constant). */
function userModel(dir: string): { file: string; manifest: Record<string, unknown> } {
  const bytes = writeOnnx({
    inputs: [{ name: 'pixels', shape: ['N', 3, 64, 64] }],
    outputs: [{ name: 'emb', shape: ['N', 3] }],
    nodes: [{ op: 'GlobalAveragePool', inputs: ['pixels'], outputs: ['p'] }, { op: 'Flatten', inputs: ['p'], outputs: ['emb'] }],
    inits: [],
  });
  const file = path.join(dir, 'colour.onnx');
  fs.writeFileSync(file, bytes);
  return {
    file,
    manifest: {
      id: 'colour-mean', version: '2', source: 'test',
      input: { name: 'pixels', width: 64, height: 64, layout: 'NCHW', channels: 3, normalisation: { scale: 1 / 255, offset: 0 }, dtype: 'float32' },
      outputs: [{ name: 'emb', dim: 3, kind: 'embedding' }],
    },
  };
}

describe('model registry and errors', () => {
  it('a missing model file or manifest gives a clear error naming the file and the fix', async () => {
    const f = visionFixture();
    const rt = runtime(f);
    fs.rmSync(path.join(f.modelsDir, 'mobilenet_v2_mid.onnx'));
    expect(() => rt.resolved()).toThrow(ModelError);
    expect(() => rt.resolved()).toThrow(/mobilenet_v2_mid.*missing.*npm run build:models/s);
    fs.rmSync(path.join(f.modelsDir, 'mobilenet_v2_mid.json'));
    expect(() => rt.resolved()).toThrow(/mobilenet_v2_mid is not installed.*build:models/s);
    // nothing is lost or half-written: the photo stays pending
    const id = addPhoto(f.db, await makeJpeg(path.join(f.dir, 'a.jpg')));
    await expect(rt.embedPending(noJob())).rejects.toThrow(/not installed/);
    expect(pendingPhotos(f.db, DEFAULT_MODEL_SET.id)).toEqual([id]);
  });

  it('a corrupt model file is detected by its checksum, and an unloadable one by onnxruntime, with a clear error', async () => {
    const f = visionFixture();
    const rt = runtime(f);
    const id = addPhoto(f.db, await makeJpeg(path.join(f.dir, 'a.jpg')));
    const file = path.join(f.modelsDir, 'centernet.onnx');
    const bytes = fs.readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    fs.writeFileSync(file, bytes);
    expect(() => rt.resolved()).toThrow(/centernet.*does not match its manifest.*corrupt/s);
    expect(rt.stage().ready()).toMatchObject({ ok: false });
    // garbage whose checksum is (re)recorded in the manifest: onnxruntime refuses it, the error says which model
    fs.writeFileSync(file, 'this is not an onnx model');
    const mf = path.join(f.modelsDir, 'centernet.json');
    const m = JSON.parse(fs.readFileSync(mf, 'utf8'));
    m.sha256 = (await import('node:crypto')).createHash('sha256').update('this is not an onnx model').digest('hex');
    fs.writeFileSync(mf, JSON.stringify(m));
    await expect(rt.embedPending(noJob())).rejects.toThrow(/Model centernet .* cannot be loaded.*corrupt or not an ONNX model/s);
    expect(pendingPhotos(f.db, DEFAULT_MODEL_SET.id)).toEqual([id]);
  });

  it('an invalid manifest is rejected with the field at fault', () => {
    const f = visionFixture();
    const mf = path.join(f.modelsDir, 'centernet.json');
    const m = JSON.parse(fs.readFileSync(mf, 'utf8'));
    delete m.input.layout;
    fs.writeFileSync(mf, JSON.stringify(m));
    expect(() => runtime(f).resolved()).toThrow(/centernet\.json.*input\.layout/s);
  });

  it('installs a user-supplied model with a manifest; a wrong checksum is refused', () => {
    const dir = tempDir();
    const u = userModel(dir);
    const e = installUserModel(path.join(dir, 'user'), u.file, u.manifest);
    expect(e.origin).toBe('user');
    expect(fs.existsSync(e.file)).toBe(true);
    expect(() => installUserModel(path.join(dir, 'user2'), u.file, { ...u.manifest, sha256: 'a'.repeat(64) })).toThrow(/does not match/);
    expect(() => installUserModel(path.join(dir, 'user3'), u.file, { ...u.manifest, outputs: [] })).toThrow(/outputs/);
  });
});

describe('model switch', () => {
  it('embeds with a new model set without mixing vectors, and the current set follows once it is complete', async () => {
    const f = visionFixture();
    const rt = runtime(f);
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push(addPhoto(f.db, await makeJpeg(path.join(f.dir, `p${i}.jpg`), { color: ['red', 'green', 'blue'][i], pattern: 'stripes', seed: i })));
    await rt.embedPending(noJob());
    const before = loadEmbeddings(f.db, DEFAULT_MODEL_SET.id);
    expect(before.ids).toEqual(ids);

    const u = userModel(f.dir);
    installUserModel(f.userDir, u.file, u.manifest);
    const setId = 'colour-mean@2';
    expect(rt.registry.modelSets().map((s) => s.id)).toContain(setId);
    rt.selectSet(setId);
    expect(pendingPhotos(f.db, setId)).toEqual(ids);
    // until the new set has more vectors, readers keep the old one
    await rt.processBatch([{ photoId: ids[0], path: path.join(f.dir, 'p0.jpg') }]);
    expect(currentModelSet(f.db)).toBe(DEFAULT_MODEL_SET.id);
    await rt.embedPending(noJob());
    expect(countEmbeddings(f.db, setId)).toBe(3);
    const after = loadEmbeddings(f.db, setId);
    expect(after.dim).toBe(3);
    // the colour-mean model sees red photos as red: its vector's largest part is R
    expect(after.data[0]).toBeGreaterThan(after.data[1]);
    // the old set's vectors are untouched, never mixed
    const old = loadEmbeddings(f.db, DEFAULT_MODEL_SET.id);
    expect(old.dim).toBe(before.dim);
    expect(Array.from(old.data)).toEqual(Array.from(before.data));
    // the selected set is current once complete; selecting the old (complete) set back makes it current again
    expect(currentModelSet(f.db)).toBe(setId);
    rt.selectSet(DEFAULT_MODEL_SET.id);
    expect(currentModelSet(f.db)).toBe(DEFAULT_MODEL_SET.id);
    expect(() => rt.selectSet('no-such-set')).toThrow(/Unknown model set/);
  });

  it('tiny models built twice with the same seed are byte-identical (fixtures are deterministic)', () => {
    const a = tempDir(), b = tempDir();
    writeTinyModels(a); writeTinyModels(b);
    expect(fs.readFileSync(path.join(a, 'centernet.onnx')).equals(fs.readFileSync(path.join(b, 'centernet.onnx')))).toBe(true);
  });
});
