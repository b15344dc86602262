import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { download, DownloadError } from '../../src/vision/download.ts';
import { Engine } from '../../src/api/engine.ts';
import { writeTinyModels } from './helpers/tiny-onnx.ts';
import { tempDir } from './helpers/setup.ts';

// A local HTTP server on 127.0.0.1 serving a small ONNX model the test builds, with Range support and a
// switch that cuts the next response half-way.
let server: http.Server;
let base = '';
let model: Buffer;
let sha = '';
let cutNext = 0;
const seen: { range: string | undefined }[] = [];

beforeAll(async () => {
  const dir = tempDir();
  writeTinyModels(dir);
  model = fs.readFileSync(path.join(dir, 'centernet.onnx'));
  sha = crypto.createHash('sha256').update(model).digest('hex');
  server = http.createServer((req, res) => {
    seen.push({ range: req.headers.range });
    if (req.url !== '/model.onnx') { res.writeHead(404); res.end(); return; }
    let start = 0;
    const m = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    if (m) start = Number(m[1]);
    const body = model.subarray(start);
    res.writeHead(m ? 206 : 200, { 'Content-Length': body.length, ...(m ? { 'Content-Range': `bytes ${start}-${model.length - 1}/${model.length}` } : {}) });
    if (cutNext > 0) {
      cutNext--;
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('model download (local server)', () => {
  it('downloads, checks size and SHA-256, reports progress', async () => {
    const dest = path.join(tempDir(), 'm.onnx');
    const progress: number[] = [];
    const r = await download({ url: `${base}/model.onnx`, size: model.length, sha256: sha }, dest, { onProgress: (p) => progress.push(p.done) });
    expect(r).toEqual({ bytes: model.length, resumed: false });
    expect(fs.readFileSync(dest).equals(model)).toBe(true);
    expect(progress.at(-1)).toBe(model.length);
    expect(fs.existsSync(dest + '.part')).toBe(false);
  });

  it('rejects a bad checksum and keeps nothing', async () => {
    const dest = path.join(tempDir(), 'm.onnx');
    const bad = download({ url: `${base}/model.onnx`, size: model.length, sha256: 'f'.repeat(64) }, dest);
    await expect(bad).rejects.toThrow(DownloadError);
    await expect(download({ url: `${base}/model.onnx`, size: model.length, sha256: 'f'.repeat(64) }, dest)).rejects.toThrow(/SHA-256 mismatch/);
    expect(fs.existsSync(dest)).toBe(false);
    expect(fs.existsSync(dest + '.part')).toBe(false);
  });

  it('rejects a wrong size', async () => {
    const dest = path.join(tempDir(), 'm.onnx');
    await expect(download({ url: `${base}/model.onnx`, size: model.length - 10, sha256: sha }, dest)).rejects.toThrow(/larger than the expected/);
    expect(fs.existsSync(dest)).toBe(false);
  });

  it('a cut download resumes with an HTTP Range request, within the call', async () => {
    const dest = path.join(tempDir(), 'm.onnx');
    seen.length = 0;
    cutNext = 1;
    const r = await download({ url: `${base}/model.onnx`, size: model.length, sha256: sha }, dest);
    expect(r.bytes).toBe(model.length);
    expect(fs.readFileSync(dest).equals(model)).toBe(true);
    expect(seen).toHaveLength(2);
    expect(seen[0].range).toBeUndefined();
    expect(seen[1].range).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(seen[1].range!)![0])).toBeGreaterThan(0);
  });

  it('a cut download keeps its part file and the next call resumes it', async () => {
    const dest = path.join(tempDir(), 'm.onnx');
    seen.length = 0;
    cutNext = 1;
    const spec = { url: `${base}/model.onnx`, size: model.length, sha256: sha };
    await expect(download(spec, dest, { retries: 0 })).rejects.toThrow(/interrupted.*run it again to resume/);
    const part = fs.statSync(dest + '.part').size;
    expect(part).toBeGreaterThan(0);
    expect(part).toBeLessThan(model.length);
    const r = await download(spec, dest);
    expect(r.resumed).toBe(true);
    expect(seen.at(-1)!.range).toBe(`bytes=${part}-`);
    expect(fs.readFileSync(dest).equals(model)).toBe(true);
  });

  it('vision.downloadModel installs a pinned model into the data dir, usable as a model set', async () => {
    const dir = tempDir();
    const engine = new Engine({ dbPath: path.join(dir, 'sift.db'), modelsDir: path.join(dir, 'none') });
    try {
      const manifest = {
        version: '1', source: 'test server',
        input: { name: 'input', width: 512, height: 512, layout: 'NHWC', channels: 3, normalisation: { scale: 1, offset: 0 }, dtype: 'float32' },
        outputs: [{ name: 'feat', dim: 8, kind: 'embedding' }],
      };
      await expect(engine.call('vision.downloadModel', { id: 'tiny-cn', url: `${base}/model.onnx`, size: model.length, sha256: 'e'.repeat(64), manifest }))
        .rejects.toThrow(/SHA-256 mismatch/);
      const r = await engine.call('vision.downloadModel', { id: 'tiny-cn', url: `${base}/model.onnx`, size: model.length, sha256: sha, manifest });
      expect(r.bytes).toBe(model.length);
      const models = await engine.call('vision.models', {});
      expect(models.models.find((m) => m.id === 'tiny-cn')).toMatchObject({ origin: 'downloaded', status: 'ok' });
      expect(models.sets.find((s) => s.id === 'tiny-cn@1')).toMatchObject({ ready: true, dim: 8 });
      // the catalogue's unpinned entries are listed but never downloaded unverified
      expect(models.catalog.length).toBeGreaterThan(0);
      const unpinned = models.catalog.find((c) => !c.downloadable);
      if (unpinned) await expect(engine.call('vision.downloadModel', { id: unpinned.id })).rejects.toThrow(/no pinned size and SHA-256/);
    } finally { engine.close(); }
  });
});
