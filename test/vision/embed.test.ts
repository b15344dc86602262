import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { makeJpeg, makeBadFiles } from '../helpers/fixtures.ts';
import { VisionRuntime } from '../../src/vision/runtime.ts';
import { loadEmbeddings, loadEmbedding, pendingPhotos, embeddingErrors, photoTags, topTags, currentModelSet } from '../../src/vision/store.ts';
import { nearest } from '../../src/vision/similar.ts';
import { DEFAULT_MODEL_SET } from '../../src/vision/registry.ts';
import { TINY_LABELS } from './helpers/tiny-onnx.ts';
import { addPhoto, dot, noJob, visionFixture } from './helpers/setup.ts';

const runtimes: VisionRuntime[] = [];
afterAll(async () => { for (const r of runtimes) await r.close(); });

function runtime(f: ReturnType<typeof visionFixture>): VisionRuntime {
  const rt = new VisionRuntime({ db: f.db, modelsDir: f.modelsDir, userModelsDir: f.userDir, threads: 2 });
  runtimes.push(rt);
  return rt;
}

const looks = [
  { pattern: 'stripes', color: 'red' }, { pattern: 'checker', color: 'blue' }, { pattern: 'circle', color: 'green' },
  { pattern: 'rings', color: 'yellow' }, { pattern: 'diagonal', color: 'purple' }, { pattern: 'gradient', color: 'cyan' },
] as const;

describe('embedding pipeline (tiny stand-in models, real onnxruntime, sharp and SQLite)', () => {
  it('embeds pending photos once, stores unit vectors and tags, records per-file errors', async () => {
    const f = visionFixture();
    const rt = runtime(f);
    const ids: number[] = [];
    for (let i = 0; i < looks.length; i++) ids.push(addPhoto(f.db, await makeJpeg(path.join(f.dir, `p${i}.jpg`), { ...looks[i], width: 640, height: 480, seed: i })));
    const bad = await makeBadFiles(path.join(f.dir, 'bad'));
    const badId = addPhoto(f.db, bad.truncated);
    const goneId = addPhoto(f.db, path.join(f.dir, 'gone.jpg'));
    expect(pendingPhotos(f.db, DEFAULT_MODEL_SET.id)).toEqual([...ids, badId, goneId]);

    const r = await rt.embedPending(noJob());
    expect(r.done).toBe(looks.length);
    expect(r.failed.map((x) => x.photoId).sort()).toEqual([badId, goneId]);
    expect(r.failed.find((x) => x.photoId === goneId)!.error).toMatch(/missing|no such file|not exist/i);
    expect(embeddingErrors(f.db, DEFAULT_MODEL_SET.id).map((e) => e.photoId).sort()).toEqual([badId, goneId]);

    const m = loadEmbeddings(f.db, DEFAULT_MODEL_SET.id);
    expect(m.ids).toEqual(ids);
    expect(m.dim).toBe(16 + TINY_LABELS.length + 8);
    for (let i = 0; i < m.ids.length; i++) {
      const v = m.data.subarray(i * m.dim, (i + 1) * m.dim);
      expect(Math.abs(dot(v, v) - 1)).toBeLessThan(1e-5);
    }
    expect(currentModelSet(f.db)).toBe(DEFAULT_MODEL_SET.id);
    // tags: readable labels, each photo has its top 3
    const t = photoTags(f.db, ids[0]);
    expect(t.length).toBeGreaterThanOrEqual(3);
    for (const x of t) expect(TINY_LABELS).toContain(x.tag);
    const top = topTags(f.db, ids, 2);
    expect(top).toHaveLength(2);
    expect(top[0].score).toBeGreaterThanOrEqual(top[1].score);

    // incremental: nothing pending (failed photos are not retried until they change)
    expect(pendingPhotos(f.db, DEFAULT_MODEL_SET.id)).toEqual([]);
    expect((await rt.embedPending(noJob())).total).toBe(0);
    // a changed file (new hash) is re-embedded; a failed photo is retried once it changed
    f.db.prepare('UPDATE photos SET hash = ?, updated_at = updated_at + 1 WHERE id = ?').run('changed', ids[2]);
    f.db.prepare('UPDATE photos SET updated_at = updated_at + 1 WHERE id = ?').run(badId);
    expect(pendingPhotos(f.db, DEFAULT_MODEL_SET.id)).toEqual([ids[2], badId]);
  });

  it('is deterministic: the same photo gives the same vector, across runs and worker pools', async () => {
    const f = visionFixture();
    const file = await makeJpeg(path.join(f.dir, 'a.jpg'), { pattern: 'rings', color: 'orange', width: 900, height: 600, seed: 3 });
    const a = await runtime(f).embedItems([{ photoId: 1, path: file }, { photoId: 2, path: file }]);
    const b = await runtime(f).embedItems([{ photoId: 3, path: file }]);
    expect(a[0].vector).toBeDefined();
    expect(Array.from(a[0].vector!)).toEqual(Array.from(a[1].vector!));
    expect(Array.from(a[0].vector!)).toEqual(Array.from(b[0].vector!));
    expect(Array.from(a[0].tags!)).toEqual(Array.from(b[0].tags!));
  });

  it('a photo and its resized, recompressed copy are nearest neighbours', async () => {
    const f = visionFixture();
    const rt = runtime(f);
    const ids: number[] = [];
    for (let i = 0; i < looks.length; i++) ids.push(addPhoto(f.db, await makeJpeg(path.join(f.dir, `p${i}.jpg`), { ...looks[i], width: 1200, height: 800, seed: 10 + i, noise: 10 })));
    const copies: number[] = [];
    for (let i = 0; i < looks.length; i++) {
      const out = path.join(f.dir, `copy${i}.jpg`);
      await sharp(path.join(f.dir, `p${i}.jpg`)).resize(500).jpeg({ quality: 55 }).toFile(out);
      copies.push(addPhoto(f.db, out));
    }
    await rt.embedPending(noJob());
    const m = loadEmbeddings(f.db, DEFAULT_MODEL_SET.id);
    for (let i = 0; i < looks.length; i++) {
      const q = loadEmbedding(f.db, ids[i], DEFAULT_MODEL_SET.id)!;
      const [best] = nearest(m, q, 1, ids[i]);
      expect(best.photoId, `nearest of photo ${i}`).toBe(copies[i]);
      expect(best.score).toBeGreaterThan(0.98);
    }
  });

  it('takes pixels handed over by the index (no second decode) and gives nearly the vector of a decode', async () => {
    const f = visionFixture();
    const rt = runtime(f);
    const file = await makeJpeg(path.join(f.dir, 'a.jpg'), { pattern: 'checker', color: 'pink', width: 1024, height: 768, seed: 5 });
    const { data, info } = await sharp(file).rotate().resize(512, 512, { fit: 'inside' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const [fromPixels] = await rt.embedItems([{ photoId: 1, path: '/nonexistent/never-read.jpg', pixels: { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 } }]);
    const [fromFile] = await rt.embedItems([{ photoId: 1, path: file }]);
    expect(fromPixels.error).toBeUndefined();
    expect(dot(fromPixels.vector!, fromFile.vector!)).toBeGreaterThan(0.999);
  });

  it('the stage plugs into the index seam: ready, pending, process', async () => {
    const f = visionFixture();
    const rt = runtime(f);
    const stage = rt.stage();
    expect(stage.ready()).toEqual({ ok: true });
    const id = addPhoto(f.db, await makeJpeg(path.join(f.dir, 'a.jpg'), { pattern: 'stripes', color: 'blue' }));
    expect(stage.pending(f.db)).toEqual([id]);
    const r = await stage.process([{ photoId: id, path: path.join(f.dir, 'a.jpg') }], noJob());
    expect(r).toEqual({ done: 1, failed: [] });
    expect(stage.pending(f.db)).toEqual([]);
    fs.rmSync(path.join(f.modelsDir, 'centernet.onnx'));
    const nr = stage.ready();
    expect(nr.ok).toBe(false);
    expect(!nr.ok && nr.reason).toMatch(/centernet.*missing.*build:models/s);
  });
});
