// Through the engine facade and the CLI: `library.index` embeds via the stage; similar, embeddings export,
// models, status, tags, model-set switch in the background.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { makeLibrary } from '../helpers/fixtures.ts';
import { Engine } from '../../src/api/engine.ts';
import { writeTinyModels, writeOnnx, writeModel } from './helpers/tiny-onnx.ts';
import { tempDir } from './helpers/setup.ts';

let dir = '', lib = '', dbPath = '', modelsDir = '';
let engine: Engine;

beforeAll(async () => {
  dir = tempDir();
  lib = path.join(dir, 'photos');
  modelsDir = path.join(dir, 'models');
  writeTinyModels(modelsDir);
  await makeLibrary(lib, { groupCount: 3, perGroup: 3, defaults: { width: 480, height: 320 } });
  await sharp(fs.readdirSync(lib, { recursive: true }).map(String).filter((f) => f.endsWith('.jpg')).map((f) => path.join(lib, f)).sort()[0])
    .resize(200).jpeg({ quality: 60 }).toFile(path.join(dir, 'outside-copy.jpg'));
  fs.writeFileSync(path.join(lib, 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
  dbPath = path.join(dir, 'sift.db');
  engine = new Engine({ dbPath, modelsDir });
});
afterAll(() => engine?.close());

describe('vision through the engine API', () => {
  it('library.index embeds every photo through the stage, incrementally', async () => {
    const events: string[] = [];
    const off = engine.onEvent((e) => { if (e.type === 'job.progress') events.push(e.phase); });
    const s = await engine.call('library.index', { roots: [lib] });
    off();
    const st = await engine.call('vision.status', {});
    expect(st).toMatchObject({ modelSet: 'default-424-v1', current: 'default-424-v1', embedded: 9, pending: 0, ready: true, reason: null });
    expect(JSON.stringify(s)).toContain('embedding');
    // incremental: nothing to do the second time
    const again = await engine.call('vision.embed', {});
    expect(again).toMatchObject({ total: 0, done: 0 });
  });

  it('vision.similar: by id (the same look comes first) and by a path outside the library', async () => {
    const photos = await engine.call('library.photos', { status: 'ok' });
    const byGroup = new Map<string, number[]>();
    for (const p of photos) { const g = path.basename(path.dirname(p.path)); byGroup.set(g, [...(byGroup.get(g) ?? []), p.id]); }
    const [g0] = [...byGroup.values()];
    const r = await engine.call('vision.similar', { photoId: g0[0], k: 2 });
    expect(r.results).toHaveLength(2);
    expect(r.results.map((x) => x.photoId).sort()).toEqual(g0.slice(1).sort());
    expect(r.results[0].score).toBeGreaterThanOrEqual(r.results[1].score);
    const first = photos.map((p) => p.path).sort()[0];
    const byPath = await engine.call('vision.similar', { path: path.join(dir, 'outside-copy.jpg'), k: 1 });
    expect(byPath.query.photoId).toBeNull();
    expect(byPath.results[0].path).toBe(first);
    await expect(engine.call('vision.similar', { photoId: 99999 })).rejects.toThrow(/No photo with id 99999/);
    await expect(engine.call('vision.similar', {})).rejects.toThrow(/exactly one of photoId or path/);
  });

  it('vision.tags gives readable suggested names', async () => {
    const photos = await engine.call('library.photos', { status: 'ok' });
    const t = await engine.call('vision.tags', { photoIds: photos.map((p) => p.id), limit: 3 });
    expect(t).toHaveLength(3);
    for (const x of t) expect(typeof x.tag).toBe('string');
  });

  it('vision.exportEmbeddings writes a float32 row-major matrix and its JSON index', async () => {
    const out = path.join(dir, 'emb.f32');
    const r = await engine.call('vision.exportEmbeddings', { out });
    expect(r.rows).toBe(9);
    const buf = fs.readFileSync(out);
    expect(buf.length).toBe(r.rows * r.dim * 4);
    const meta = JSON.parse(fs.readFileSync(out + '.json', 'utf8'));
    expect(meta).toMatchObject({ modelSet: 'default-424-v1', dtype: 'float32', layout: 'row-major', rows: 9, dim: r.dim });
    expect(meta.models.map((m: { id: string }) => m.id)).toEqual(['mobilenet_v2_mid', 'centernet']);
    expect(meta.photos[0]).toHaveProperty('path');
    // row 0 is a unit vector
    const row = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + r.dim * 4));
    expect(row.reduce((s, x) => s + x * x, 0)).toBeCloseTo(1, 4);
  });

  it('vision.setModelSet re-embeds in the background; a set whose model is missing is refused', async () => {
    const bytes = writeOnnx({ inputs: [{ name: 'input', shape: ['N', 3, 32, 32] }], outputs: [{ name: 'emb', shape: ['N', 3] }],
      nodes: [{ op: 'GlobalAveragePool', inputs: ['input'], outputs: ['p'] }, { op: 'Flatten', inputs: ['p'], outputs: ['emb'] }], inits: [] });
    const user = path.join(dir, 'sift-data', 'models');
    fs.mkdirSync(user, { recursive: true });
    writeModel(user, 'mean-rgb', bytes, { size: [32, 32], layout: 'NCHW', scale: 1 / 255, outputs: [{ name: 'emb', dim: 3 }] });
    const r = await engine.call('vision.setModelSet', { id: 'mean-rgb@1' });
    expect(r.pending).toBe(9);
    expect(r.jobId).toBeTruthy();
    const ended = await new Promise<string>((resolve) => { const off = engine.onEvent((e) => { if (e.type === 'job.ended' && e.jobId === r.jobId) { off(); resolve(e.outcome); } }); });
    expect(ended).toBe('done');
    const st = await engine.call('vision.status', {});
    expect(st).toMatchObject({ modelSet: 'mean-rgb@1', embedded: 9, pending: 0 });
    fs.rmSync(path.join(user, 'mean-rgb.onnx'));
    await expect(engine.call('vision.setModelSet', { id: 'mean-rgb@1' })).rejects.toThrow(/mean-rgb.*missing/);
    await engine.call('vision.setModelSet', { id: 'default-424-v1' });
  });
});

describe('vision CLI', () => {
  const sift = (...args: string[]) => spawnSync(process.execPath, ['bin/sift.mjs', '--db', dbPath, ...args], {
    cwd: path.resolve(import.meta.dirname, '../..'), encoding: 'utf8', env: { ...process.env, SIFT_MODELS_DIR: modelsDir },
  });

  it('sift models, similar --json, embeddings --out', async () => {
    const [one] = await engine.call('library.photos', { status: 'ok' });
    expect((await engine.call('vision.status', {})).current).toBe('default-424-v1');
    engine.close();
    const m = sift('models');
    expect(m.status, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/centernet\s+default\s+ok/);
    expect(m.stdout).toMatch(/\* default-424-v1\s+ready/);
    const s = sift('similar', String(one.id), '--json', '-k', '3');
    expect(s.status, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout).results).toHaveLength(3);
    const e = sift('embeddings', '--out', path.join(dir, 'cli.f32'));
    expect(e.status, e.stderr).toBe(0);
    expect(fs.statSync(path.join(dir, 'cli.f32')).size).toBeGreaterThan(0);
    const bad = sift('similar', '424242');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/No photo with id 424242/);
    engine = new Engine({ dbPath, modelsDir });
  });
});
