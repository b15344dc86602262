import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeJpeg, makeLibrary } from '../helpers/fixtures.ts';
import { tmpDir } from './util.ts';

const repo = path.resolve(import.meta.dirname, '..', '..');
function sift(db: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(repo, 'bin', 'sift.mjs'), '--db', db, ...args], { encoding: 'utf8', cwd: path.dirname(db) });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('sift CLI: index, status, photos', () => {
  it('exit codes: 0 all good, 1 some files failed (listed), 2 usage errors; photos --json', { timeout: 180_000 }, async () => {
    const dir = tmpDir('sift-cli-');
    const db = path.join(dir, 'sift.db');
    const lib = path.join(dir, 'lib');
    await makeLibrary(lib, { groupCount: 2, perGroup: 2 });
    await makeJpeg(path.join(lib, 'rot.jpg'), { width: 60, height: 40, orientation: 8, takenAt: '2022-02-03T04:05:06' });

    // usage errors
    let r = sift(db, 'index', '--no-embed');
    expect([r.code, r.err]).toEqual([2, expect.stringMatching(/no folder given/)]);
    r = sift(db, 'index', '--no-embed', path.join(dir, 'does-not-exist'));
    expect([r.code, r.err]).toEqual([2, expect.stringMatching(/Folder not found/)]);
    r = sift(db, 'index', '--max-pixels', 'lots', lib);
    expect(r.code).toBe(2);
    r = sift(db, 'photos', '--status', 'weird');
    expect(r.code).toBe(2);
    r = sift(db, 'no-such-command');
    expect(r.code).toBe(2);

    // all good
    r = sift(db, 'index', '--no-embed', lib);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/5 found, 5 new, 0 unchanged, 0 updated, 0 moved, 0 missing, 0 duplicates, 0 failed/);
    expect(r.err).toMatch(/index: 5\/5/); // progress as plain lines when not a TTY

    // one bad file: finished, exit 1, listed with its reason
    fs.writeFileSync(path.join(lib, 'broken.jpg'), 'not really a jpeg');
    r = sift(db, 'index', '--no-embed');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/6 found, 0 new, 5 unchanged, .* 1 failed/);
    expect(r.out).toContain(`${path.join(fs.realpathSync(lib), 'broken.jpg')}: not an image (the file contains text)`);

    r = sift(db, 'status');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Photos: 6 \(5 ok, 0 duplicates, 0 missing, 1 failed, 0 pending\)/);

    r = sift(db, 'photos', '--json');
    expect(r.code).toBe(0);
    const photos = JSON.parse(r.out);
    expect(photos).toHaveLength(6);
    for (const p of photos) for (const k of ['id', 'path', 'hash', 'width', 'height', 'takenAt', 'orientation', 'thumbnail', 'error']) expect(p).toHaveProperty(k);
    const rot = photos.find((p: { path: string }) => p.path.endsWith('rot.jpg'));
    expect(rot).toMatchObject({ width: 40, height: 60, orientation: 8, takenAt: '2022-02-03T04:05:06', status: 'ok', error: null });
    expect(fs.existsSync(rot.thumbnail)).toBe(true);
    expect(photos.find((p: { path: string }) => p.path.endsWith('broken.jpg'))).toMatchObject({ status: 'failed', error: 'not an image (the file contains text)', thumbnail: null });
    r = sift(db, 'photos', '--json', '--status', 'failed');
    expect(JSON.parse(r.out)).toHaveLength(1);
  });

  it('a library folder that cannot be reached: exit 1, listed as offline in the summary and in status; back to 0 when it returns', { timeout: 120_000 }, async () => {
    const dir = tmpDir('sift-cli-');
    const db = path.join(dir, 'sift.db');
    const drive = path.join(dir, 'drive');
    await makeJpeg(path.join(drive, 'a.jpg'), { color: 'red', seed: 1 });
    await makeJpeg(path.join(drive, 'b.jpg'), { color: 'blue', seed: 2 });
    expect(sift(db, 'index', '--no-embed', drive).code).toBe(0);
    const real = fs.realpathSync(drive);
    fs.renameSync(drive, path.join(dir, 'away'));
    let r = sift(db, 'index', '--no-embed');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/0 found, .* 0 missing, 0 duplicates, 1 failed, 2 offline \(folder not reachable: left as they are\)/);
    expect(r.out).toContain(`${real}: library folder not found (disconnected drive?): its 2 photos were left as they are`);
    r = sift(db, 'status');
    expect(r.out).toContain(`${real}  (2 photos)  NOT REACHABLE: library folder not found (disconnected drive?)`);
    expect(r.out).toMatch(/Photos: 2 \(2 ok, 0 duplicates, 0 missing, 0 failed, 0 pending, 2 offline\)/);
    fs.renameSync(path.join(dir, 'away'), drive);
    r = sift(db, 'index', '--no-embed');
    expect([r.code, r.out]).toEqual([0, expect.stringMatching(/2 found, 0 new, 2 unchanged, .* 0 failed\n/)]);
  });
});
