import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeJpeg, makeBadFiles, makeImageBuffer } from '../helpers/fixtures.ts';
import { engineSetup, tmpDir } from './util.ts';
import { indexLibrary } from '../../src/library/indexer.ts';

const setup = engineSetup();
const repo = path.resolve(import.meta.dirname, '..', '..');

/** A JPEG whose header claims 60000 x 60000 pixels (3.6 gigapixels): a decompression bomb. */
async function makeBomb(file: string): Promise<void> {
  const buf = await makeImageBuffer({ width: 64, height: 64, color: 'red' });
  for (let i = 2; i < buf.length - 9; i++) {
    if (buf[i] === 0xff && (buf[i + 1] === 0xc0 || buf[i + 1] === 0xc2)) {
      buf.writeUInt16BE(60000, i + 5);
      buf.writeUInt16BE(60000, i + 7);
      fs.writeFileSync(file, buf);
      return;
    }
  }
  throw new Error('no SOF marker');
}

describe('bad input: a clear per-file reason, and the scan goes on', () => {
  it('truncated, zero-byte, text, wrong extension, damaged header, bomb, odd names', async () => {
    const { engine, lib } = setup();
    const bad = await makeBadFiles(lib);
    const good = await makeJpeg(path.join(lib, 'good.jpg'), { color: 'green' });
    const full = await makeImageBuffer({ width: 200, height: 150, pattern: 'noise' });
    fs.writeFileSync(path.join(lib, 'header-only.jpg'), full.subarray(0, 200));
    await makeBomb(path.join(lib, 'bomb.jpg'));
    const odd = ['é ü 日本 😀.jpg', `quote's "x" #1.jpg`, 'new\nline.jpg', ' leading space.jpg'];
    for (const n of odd) await makeJpeg(path.join(lib, n), { color: 'purple', seed: odd.indexOf(n) });
    // a name that is not valid UTF-8
    fs.writeFileSync(Buffer.concat([Buffer.from(lib + '/latin1-'), Buffer.from([0xe9, 0xff]), Buffer.from('.jpg')]), await makeImageBuffer({ color: 'brown' }));
    const s = await engine.call('library.index', { roots: [lib], stages: false });
    const reason = (name: string) => s.failed.find((f) => path.basename(f.path) === name)?.error;
    expect(reason('zero.jpg')).toBe('empty file (0 bytes)');
    expect(reason('text.jpg')).toBe('not an image (the file contains text)');
    expect(reason('header-only.jpg')).toMatch(/^damaged JPEG file/);
    expect(reason('bomb.jpg')).toMatch(/image too large: 60000 x 60000 .*decompression bomb/);
    expect(s.failed.find((f) => f.path.includes('latin1-'))?.error).toMatch(/not valid UTF-8/);
    expect(s.failed, JSON.stringify(s.failed, null, 1)).toHaveLength(5);
    // a JPEG cut at a third decodes partially: indexed, flagged as damaged
    expect(s.warnings).toEqual([{ path: fs.realpathSync(bad.truncated), warning: expect.stringMatching(/^damaged JPEG: decoded partially/) }]);
    const photos = await engine.call('library.photos', {});
    const by = (n: string) => photos.find((p) => path.basename(p.path) === n)!;
    expect(by('truncated.jpg')).toMatchObject({ status: 'ok', warning: expect.stringMatching(/damaged/) });
    expect(fs.existsSync(by('truncated.jpg').thumbnail!)).toBe(true);
    expect(by('really-a-png.jpg')).toMatchObject({ status: 'ok', format: 'png' });
    expect(by('zero.jpg')).toMatchObject({ status: 'failed', error: 'empty file (0 bytes)', thumbnail: null });
    expect(by('bomb.jpg')).toMatchObject({ status: 'failed', thumbnail: null });
    expect(by(path.basename(good)).status).toBe('ok');
    for (const n of odd) expect(by(n)).toMatchObject({ status: 'ok', path: path.join(fs.realpathSync(lib), n) });
    // no half-made thumbnails anywhere
    const leftovers = fs.readdirSync(engine.ctx.thumbsDir, { recursive: true }).map(String).filter((f) => f.endsWith('.tmp'));
    expect(leftovers).toEqual([]);
    // failed files are not retried while unchanged, but are still reported
    const again = await engine.call('library.index', {});
    expect(again.failed.map((f) => f.error).sort()).toEqual(s.failed.map((f) => f.error).sort());
    expect(again.added + again.updated).toBe(0);
  });

  it('a pixel limit makes large images fail with a clear reason', async () => {
    const { engine, lib } = setup();
    await makeJpeg(path.join(lib, 'big.jpg'), { width: 400, height: 300 });
    await makeJpeg(path.join(lib, 'small.jpg'), { width: 40, height: 30 });
    const s = await engine.call('library.index', { roots: [lib], stages: false, maxPixels: 100_000 });
    expect(s.added).toBe(1);
    expect(s.failed).toEqual([{ path: fs.realpathSync(path.join(lib, 'big.jpg')), error: expect.stringMatching(/image too large: 400 x 300/) }]);
  });

  it('a file deleted during the scan is reported and the scan goes on', async () => {
    const { engine, lib } = setup();
    for (let i = 0; i < 6; i++) await makeJpeg(path.join(lib, `p${i}.jpg`), { seed: i, color: 'cyan' });
    await engine.call('library.index', { roots: [lib], stages: false });
    // change two files, then delete them after the crawl has listed them
    for (const i of [4, 5]) await makeJpeg(path.join(lib, `p${i}.jpg`), { seed: 50 + i, color: 'red' });
    await makeJpeg(path.join(lib, 'new.jpg'), { seed: 99 });
    const doomed = [4, 5].map((i) => fs.realpathSync(path.join(lib, `p${i}.jpg`))).concat(fs.realpathSync(path.join(lib, 'new.jpg')));
    const s = await engine.ctx.jobs.run('index', undefined, (job) => indexLibrary(engine.ctx, job, {
      stages: false,
      hooks: { afterCrawl: (files) => { expect(files).toEqual(expect.arrayContaining(doomed)); for (const f of doomed) fs.rmSync(f); } },
    }));
    expect(s.failed.map((f) => f.path).sort()).toEqual([...doomed].sort());
    for (const f of s.failed) expect(f.error).toBe('the file disappeared during the scan (deleted or moved)');
    expect(s.unchanged).toBe(4);
    const photos = await engine.call('library.photos', {});
    expect(photos.filter((p) => p.status === 'missing').map((p) => p.path).sort()).toEqual(doomed.slice(0, 2).sort());
    expect(photos.filter((p) => p.status === 'ok')).toHaveLength(4);
  });

  it('unreadable file and unreadable folder: clear reasons; known photos in an unreadable folder are not marked missing', async () => {
    // Tests run as root, and chmod 000 does not stop root. So when root, the scan runs in a child process
    // (the real CLI) as the unprivileged user "nobody", for whom the permissions apply.
    const dir = tmpDir('sift-perm-');
    const lib = path.join(dir, 'lib');
    await makeJpeg(path.join(lib, 'ok.jpg'), { color: 'green' });
    await makeJpeg(path.join(lib, 'locked.jpg'), { color: 'red' });
    await makeJpeg(path.join(lib, 'closed', 'inside.jpg'), { color: 'blue' });
    const db = path.join(dir, 'db', 'sift.db');
    fs.mkdirSync(path.dirname(db));
    const asRoot = process.getuid?.() === 0;
    const uid = 65534;
    const run = () => spawnSync(process.execPath, [path.join(repo, 'bin', 'sift.mjs'), '--db', db, 'index', '--no-embed', '--json', lib], {
      encoding: 'utf8', cwd: dir, env: { ...process.env, HOME: dir, TMPDIR: path.join(dir, 'tmp') },
      ...(asRoot ? { uid, gid: uid } : {}),
    });
    fs.mkdirSync(path.join(dir, 'tmp'));
    if (asRoot) {
      for (const p of [dir, lib, path.join(dir, 'db'), path.join(dir, 'tmp'), path.join(lib, 'closed')]) fs.chownSync(p, uid, uid);
      for (const f of ['ok.jpg', 'locked.jpg', 'closed/inside.jpg']) fs.chownSync(path.join(lib, f), uid, uid);
    }
    // first scan: everything readable
    const r1 = run();
    expect(r1.status, r1.stderr + r1.stdout + String(r1.error)).toBe(0);
    expect(JSON.parse(r1.stdout)).toMatchObject({ added: 3, failed: [] });
    fs.chmodSync(path.join(lib, 'locked.jpg'), 0o000);
    await makeJpeg(path.join(lib, 'locked.jpg'), { color: 'yellow' }); // changed, so it must be read again
    fs.chmodSync(path.join(lib, 'locked.jpg'), 0o000);
    fs.chmodSync(path.join(lib, 'closed'), 0o000);
    try {
      const r2 = run();
      expect(r2.status, r2.stderr).toBe(1); // finished, some failed
      const s = JSON.parse(r2.stdout);
      expect(s.failed).toEqual(expect.arrayContaining([
        { path: path.join(fs.realpathSync(lib), 'locked.jpg'), error: 'cannot read the file: permission denied (EACCES)' },
        { path: path.join(fs.realpathSync(lib), 'closed'), error: 'folder could not be read: permission denied (EACCES)' },
      ]));
      expect(s.missing).toBe(0); // closed/inside.jpg is unreadable, not gone
    } finally {
      fs.chmodSync(path.join(lib, 'closed'), 0o755);
      fs.chmodSync(path.join(lib, 'locked.jpg'), 0o644);
    }
  });
});
