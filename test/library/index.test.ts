import { describe, it, expect, onTestFinished } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { xxh3 } from '@node-rs/xxhash';
import { makeJpeg, makeLibrary, makeImageBuffer } from '../helpers/fixtures.ts';
import { engineSetup, newEngine, tmpDir } from './util.ts';

const setup = engineSetup();

describe('library index', () => {
  it('indexes photos with size, hash, orientation-corrected size, EXIF date, GPS, camera and an upright thumbnail', async () => {
    const { engine, lib, events } = setup();
    const a = await makeJpeg(path.join(lib, 'a.jpg'), {
      width: 800, height: 400, pattern: 'stripes', color: 'red', orientation: 6,
      takenAt: '2021-07-04T12:34:56', make: 'Canon', model: 'EOS 5D', gps: { lat: 48.8582, lon: -2.2945 },
    });
    const b = await makeJpeg(path.join(lib, 'sub', 'deeper', 'b.jpg'), { width: 120, height: 90, color: 'blue', createDate: '2019-01-02T03:04:05' });
    const c = await makeJpeg(path.join(lib, 'c.jpg'), { width: 100, height: 100, color: 'green', modifyDate: '2018-05-06T07:08:09' });
    const s = await engine.call('library.index', { roots: [lib], stages: false });
    expect(s).toMatchObject({ found: 3, added: 3, unchanged: 0, failed: [], cancelled: false });
    const photos = await engine.call('library.photos', {});
    const pa = photos.find((p) => p.path === fs.realpathSync(a))!;
    expect(pa).toMatchObject({
      status: 'ok', format: 'jpeg', width: 400, height: 800, orientation: 6, takenAt: '2021-07-04T12:34:56',
      camera: { make: 'Canon', model: 'EOS 5D' }, size: fs.statSync(a).size, error: null, duplicateOf: null,
    });
    expect(pa.gps!.lat).toBeCloseTo(48.8582, 4);
    expect(pa.gps!.lon).toBeCloseTo(-2.2945, 4);
    expect(pa.hash).toBe(xxh3.xxh128(fs.readFileSync(a)).toString(16).padStart(32, '0'));
    // thumbnail: JPEG, long side 320, upright (portrait like the oriented photo), in the cache next to the db
    expect(pa.thumbnail!.startsWith(engine.ctx.thumbsDir)).toBe(true);
    const tm = await sharp(pa.thumbnail!).metadata();
    expect([tm.format, tm.width, tm.height]).toEqual(['jpeg', 160, 320]);
    // the stripes are vertical in the stored pixels; upright (rotated 90 CW) they run horizontally:
    const col = await sharp(pa.thumbnail!).extract({ left: 80, top: 0, width: 1, height: 320 }).greyscale().raw().toBuffer();
    const row = await sharp(pa.thumbnail!).extract({ left: 0, top: 160, width: 160, height: 1 }).greyscale().raw().toBuffer();
    const spread = (buf: Buffer) => Math.max(...buf) - Math.min(...buf);
    expect(spread(col)).toBeGreaterThan(40);
    expect(spread(row)).toBeLessThan(25);
    expect(photos.find((p) => p.path.endsWith('b.jpg'))!.takenAt).toBe('2019-01-02T03:04:05'); // CreateDate fallback
    expect(photos.find((p) => p.path.endsWith('c.jpg'))!.takenAt).toBe('2018-05-06T07:08:09'); // ModifyDate fallback
    expect(fs.existsSync(b) && fs.existsSync(c)).toBe(true);
    // progress events and the library.changed event
    const prog = events.filter((e) => e.type === 'job.progress' && e.phase === 'index');
    expect(prog.length).toBeGreaterThan(0);
    expect(prog.at(-1)).toMatchObject({ done: 3, total: 3, failed: 0, kind: 'index', rate: expect.any(Number), etaSeconds: 0 });
    expect(events.some((e) => e.type === 'job.progress' && e.phase === 'crawl' && e.done === 3)).toBe(true); // found
    expect(events.some((e) => e.type === 'library.changed')).toBe(true);
    expect(events.some((e) => e.type === 'job.ended' && e.outcome === 'done')).toBe(true);
    const st = await engine.call('library.status', {});
    expect(st).toMatchObject({ photos: 3, ok: 3, failed: 0, missing: 0 });
    expect(st.roots).toEqual([{ id: expect.any(Number), path: fs.realpathSync(lib), photos: 3, offline: null }]);
    expect(await engine.call('library.photo', { id: pa.id })).toEqual(pa);
  });

  it('detects the type by content for every format, whatever the extension', async () => {
    const { engine, lib } = setup();
    const fmts = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heif'] as const;
    for (const f of fmts) await makeJpeg(path.join(lib, `photo-${f}.${f}`), { format: f, width: 64, height: 48, pattern: 'checker', color: 'orange', seed: fmts.indexOf(f) });
    await makeJpeg(path.join(lib, 'png-named.jpg'), { format: 'png', color: 'pink' });
    await makeJpeg(path.join(lib, 'jpeg-named.png'), { format: 'jpeg', color: 'cyan' });
    await makeJpeg(path.join(lib, 'webp-named.heic'), { format: 'webp', color: 'yellow' });
    const s = await engine.call('library.index', { roots: [lib], stages: false });
    expect(s.failed).toEqual([]);
    const byName = new Map((await engine.call('library.photos', {})).map((p) => [path.basename(p.path), p]));
    // sharp writes HEIF with the AV1 codec, which is AVIF by content
    for (const f of fmts) expect(byName.get(`photo-${f}.${f}`)).toMatchObject({ status: 'ok', format: f === 'heif' ? 'avif' : f, width: 64, height: 48 });
    expect(byName.get('png-named.jpg')!.format).toBe('png');
    expect(byName.get('jpeg-named.png')!.format).toBe('jpeg');
    expect(byName.get('webp-named.heic')!.format).toBe('webp');
    for (const p of byName.values()) expect(fs.existsSync(p.thumbnail!)).toBe(true);
  });

  it('HEIF/AVIF: the container transformations (irot) are applied, like the thumbnail', async () => {
    const { engine, lib } = setup();
    // sharp stores the orientation of an AVIF as an irot transformation, not as EXIF
    await makeJpeg(path.join(lib, 'turned.avif'), { format: 'avif', width: 64, height: 32, orientation: 6, pattern: 'stripes' });
    await engine.call('library.index', { roots: [lib], stages: false });
    const [p] = await engine.call('library.photos', {});
    expect(p).toMatchObject({ format: 'avif', width: 32, height: 64, status: 'ok' });
    const tm = await sharp(p.thumbnail!).metadata();
    expect([tm.width, tm.height]).toEqual([32, 64]);
  });

  it('refuses a second index while one is running', async () => {
    const { engine, lib } = setup();
    await makeLibrary(lib, { groupCount: 2, perGroup: 10, defaults: { width: 800, height: 600 } });
    const first = engine.call('library.index', { roots: [lib], stages: false });
    await expect(engine.call('library.index', { roots: [lib], stages: false })).rejects.toThrow(/already running/);
    expect((await first).added).toBe(20);
  });

  it('rescans incrementally: unchanged files are not decoded again; changed ones are, keeping their id', async () => {
    const { engine, lib } = setup();
    await makeLibrary(lib, { groupCount: 3, perGroup: 4 });
    const first = await engine.call('library.index', { roots: [lib], stages: false });
    expect(first.added).toBe(12);
    const before = await engine.call('library.photos', {});
    // remove the thumbnail cache: a rescan that decoded anything would write thumbnails again
    fs.rmSync(engine.ctx.thumbsDir, { recursive: true });
    fs.mkdirSync(engine.ctx.thumbsDir);
    const second = await engine.call('library.index', {});
    expect(second).toMatchObject({ found: 12, added: 0, unchanged: 12, updated: 0, moved: 0, missing: 0, failed: [] });
    expect(fs.readdirSync(engine.ctx.thumbsDir).filter((f) => !f.startsWith('.'))).toEqual([]);
    // change one file's content
    const target = before[0];
    await makeJpeg(target.path, { width: 70, height: 50, color: 'white', pattern: 'rings' });
    const third = await engine.call('library.index', {});
    expect(third).toMatchObject({ added: 0, unchanged: 11, updated: 1 });
    const after = await engine.call('library.photo', { id: target.id });
    expect(after.hash).not.toBe(target.hash);
    expect([after.width, after.height, after.path]).toEqual([70, 50, target.path]);
    expect(fs.existsSync(after.thumbnail!)).toBe(true);
  });

  it('recognises moved/renamed files by hash (same id), marks deleted files missing, records duplicates', async () => {
    const { engine, lib } = setup();
    const photos = await makeLibrary(lib, { groupCount: 2, perGroup: 3 });
    await engine.call('library.index', { roots: [lib], stages: false });
    const rows = await engine.call('library.photos', {});
    const idOf = (f: string) => rows.find((r) => r.path === fs.realpathSync(f))!.id;
    const movedFrom = photos[0].file;
    const movedId = idOf(movedFrom);
    const deleted = photos[1].file;
    const deletedId = idOf(deleted);
    const copied = photos[2].file;
    const copiedId = idOf(copied);
    const movedTo = path.join(lib, 'elsewhere', 'renamed.jpg');
    fs.mkdirSync(path.dirname(movedTo));
    fs.renameSync(movedFrom, movedTo);
    fs.rmSync(deleted);
    fs.copyFileSync(copied, path.join(lib, 'copy-of-it.jpg'));
    const s = await engine.call('library.index', {});
    expect(s).toMatchObject({ found: 6, added: 1, moved: 1, missing: 1, duplicates: 1, unchanged: 4, failed: [] });
    const m = await engine.call('library.photo', { id: movedId });
    expect(m).toMatchObject({ path: fs.realpathSync(movedTo), status: 'ok' });
    expect((await engine.call('library.photo', { id: deletedId })).status).toBe('missing');
    const dup = (await engine.call('library.photos', {})).find((p) => p.path.endsWith('copy-of-it.jpg'))!;
    expect(dup.duplicateOf).toBe(copiedId);
    expect((await engine.call('library.status', {})).duplicates).toBe(1);
    // moved back where it was: same id again
    fs.renameSync(movedTo, movedFrom);
    const s2 = await engine.call('library.index', {});
    expect(s2).toMatchObject({ moved: 1, added: 0, missing: 0 });
    expect((await engine.call('library.photo', { id: movedId })).path).toBe(fs.realpathSync(movedFrom));
    expect((await engine.call('library.photo', { id: deletedId })).status).toBe('missing');
  });

  it('a missing file that comes back unchanged is ok again without decoding', async () => {
    const { engine, lib } = setup();
    const f = await makeJpeg(path.join(lib, 'x.jpg'), { color: 'red' });
    await engine.call('library.index', { roots: [lib], stages: false });
    const hidden = path.join(path.dirname(lib), 'x-away.jpg');
    fs.renameSync(f, hidden);
    expect((await engine.call('library.index', {})).missing).toBe(1);
    fs.renameSync(hidden, f);
    const s = await engine.call('library.index', {});
    expect(s).toMatchObject({ unchanged: 1, added: 0, missing: 0 });
    expect((await engine.call('library.photos', {}))[0].status).toBe('ok');
  });

  it('skips hidden folders, its own data folder, export folders (.sift-export) and non-photo files; never loops on symlinks', async () => {
    const dir = tmpDir();
    const lib = path.join(dir, 'lib');
    // the database and its data folder live inside the library
    const e = newEngine(lib);
    onTestFinished(() => e.engine.close());
    await makeJpeg(path.join(lib, 'keep.jpg'), { color: 'red' });
    await makeJpeg(path.join(lib, '.hidden', 'no.jpg'), { color: 'blue' });
    await makeJpeg(path.join(lib, 'exported', 'no.jpg'), { color: 'blue' });
    fs.writeFileSync(path.join(lib, 'exported', '.sift-export'), '{}');
    await makeJpeg(path.join(e.engine.ctx.dataDir, 'stray.jpg'), { color: 'green' });
    fs.writeFileSync(path.join(lib, 'notes.txt'), 'hello');
    fs.writeFileSync(path.join(lib, 'clip.mov'), 'not a photo');
    fs.mkdirSync(path.join(lib, 'a', 'b'), { recursive: true });
    await makeJpeg(path.join(lib, 'a', 'b', 'deep.jpg'), { color: 'yellow' });
    fs.symlinkSync(path.join(lib, 'a'), path.join(lib, 'a', 'b', 'loop'));      // a loop
    fs.symlinkSync(lib, path.join(lib, 'a', 'up'));                             // another one
    const outside = path.join(dir, 'outside');
    await makeJpeg(path.join(outside, 'o.jpg'), { color: 'purple' });
    fs.symlinkSync(outside, path.join(lib, 'link-out'));
    const s = await e.engine.call('library.index', { roots: [lib], stages: false });
    const names = (await e.engine.call('library.photos', {})).map((p) => path.relative(fs.realpathSync(lib), p.path)).sort();
    expect(names).toEqual(['a/b/deep.jpg', 'keep.jpg']);
    expect(s.failed).toEqual([]);
  });

  it('runs the per-photo stages: pixels during the scan, pending() after it; stages:false skips them', async () => {
    const { engine, lib } = setup();
    await makeJpeg(path.join(lib, 'wide.jpg'), { width: 400, height: 100, orientation: 6, color: 'red' });
    await makeJpeg(path.join(lib, 'small.jpg'), { width: 30, height: 20, color: 'blue' });
    const seen: { id: number; w?: number; h?: number; len?: number; ch?: number }[] = [];
    let later: number[] = [];
    const done = new Set<number>();
    engine.ctx.stages.push({
      id: 'fake', pixelSize: 64,
      ready: () => ({ ok: true }),
      pending: (db) => (db.prepare("SELECT id FROM photos WHERE status = 'ok' ORDER BY id").all() as { id: number }[]).map((r) => r.id).filter((id) => !done.has(id)),
      process: async (batch) => {
        for (const it of batch) {
          if (it.pixels) seen.push({ id: it.photoId, w: it.pixels.width, h: it.pixels.height, len: it.pixels.data.length, ch: it.pixels.channels });
          else later.push(it.photoId);
          done.add(it.photoId);
        }
        return { done: batch.length, failed: [] };
      },
    });
    engine.ctx.stages.push({ id: 'not-ready', pixelSize: 0, ready: () => ({ ok: false, reason: 'no model installed' }), pending: () => [], process: async () => { throw new Error('must not run'); } });
    const s = await engine.call('library.index', { roots: [lib] });
    expect(s.stages).toEqual([{ id: 'fake', done: 2, failed: 0, skipped: null }, { id: 'not-ready', done: 0, failed: 0, skipped: 'no model installed' }]);
    const dims = seen.map((x) => [x.w, x.h, x.ch, x.len]).sort();
    // wide.jpg is 400x100 stored, orientation 6 -> 100x400 upright -> 16x64; small.jpg stays 30x20 (never enlarged)
    expect(dims).toEqual([[16, 64, 3, 16 * 64 * 3], [30, 20, 3, 30 * 20 * 3]].sort());
    expect(later).toEqual([]);
    // a photo indexed with stages off is handed over (without pixels) by pending() on the next scan
    await makeJpeg(path.join(lib, 'third.jpg'), { color: 'green' });
    await engine.call('library.index', { stages: false });
    expect(seen).toHaveLength(2);
    const s3 = await engine.call('library.index', {});
    expect(s3.stages[0]).toMatchObject({ id: 'fake', done: 1 });
    expect(later).toHaveLength(1);
    later = [];
  });

  it('cancels a scan; the next scan finishes the rest without redoing what was done', async () => {
    const { engine, lib, events } = setup();
    await makeLibrary(lib, { groupCount: 4, perGroup: 15, defaults: { width: 600, height: 400 } });
    const jobId = 'scan-1';
    const off = engine.onEvent((e) => {
      if (e.type === 'job.progress' && e.phase === 'index' && e.done >= 5) void engine.call('jobs.cancel', { jobId });
    });
    const s = await engine.call('library.index', { roots: [lib], stages: false, jobId });
    off();
    expect(s.cancelled).toBe(true);
    expect(s.added).toBeGreaterThanOrEqual(5);
    expect(s.added).toBeLessThan(60);
    expect(s.missing).toBe(0);
    expect(events.some((e) => e.type === 'job.ended' && e.jobId === jobId && e.outcome === 'cancelled')).toBe(true);
    const s2 = await engine.call('library.index', {});
    expect(s2).toMatchObject({ cancelled: false, unchanged: s.added, added: 60 - s.added, failed: [] });
  });

  it('rejects a folder that does not exist with a clear error, and can remove a root', async () => {
    const { engine, lib } = setup();
    await expect(engine.call('library.index', { roots: [path.join(lib, 'nope')] })).rejects.toThrow(/Folder not found/);
    await expect(engine.call('library.index', {})).rejects.toThrow(/No library folders/);
    await makeJpeg(path.join(lib, 'a.jpg'));
    await engine.call('library.index', { roots: [lib], stages: false });
    expect(await engine.call('library.removeRoot', { path: lib })).toEqual({ removed: true, photos: 1 });
    expect((await engine.call('library.status', {})).photos).toBe(0);
    expect(fs.existsSync(path.join(lib, 'a.jpg'))).toBe(true); // files are never touched
    const buf = await makeImageBuffer();
    expect(buf.length).toBeGreaterThan(0);
  });
});
