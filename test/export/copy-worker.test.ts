// The copy worker's sequence (copy.worker.mjs) on its own, on both of its copy paths: through /proc/self/fd into a
// file created exclusively (Linux), and the exclusive copy by name (other systems). And what the first one is for: on
// ext4, a copy's write-back starts when the copy is closed, instead of all of an export waiting in memory.
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
// @ts-expect-error plain JavaScript worker module (types in copy.ts)
import { copyVerifySync, PROC_FD, procFdFor } from '../../src/export/copy.worker.mjs';
import { xxh128Hex } from '../../src/util/hash.ts';
import { planExport } from '../../src/export/plan.ts';
import { runExport } from '../../src/export/run.ts';
import { listFiles, makeLib, mountExt4, mountTmpfs, newDb, tmp } from './helpers.ts';

type Result = { hash: string } | { error: { code?: string; message: string } };
const copy = copyVerifySync as (job: { src: string; dst: string; expectHash: string | null }, faults?: unknown[], mark?: (v: number) => void, procFd?: boolean) => Result;

const cleanups: (() => void)[] = [];
afterAll(() => { for (const c of cleanups) c(); });

const paths: [string, boolean][] = [['by name (exclusive copy)', false]];
if (process.platform === 'linux') paths.unshift(['through /proc/self/fd', true]);

describe.each(paths)('copy worker, %s', (_name, procFd) => {
  it('is the path this system uses', () => {
    // Linux with /proc: the copy that starts its write-back (unless turned off)
    if (procFd) expect(PROC_FD).toBe(process.env.SIFT_COPY_BY_NAME !== '1');
  });

  it('copies, reads back and returns the hash; the copy has the source\'s bytes and mode', () => {
    const dir = tmp();
    const src = path.join(dir, 'a.jpg'), dst = path.join(dir, 'out.jpg');
    const data = randomBytes(300_000);
    fs.writeFileSync(src, data);
    fs.chmodSync(src, 0o640);
    const marks: number[] = [];
    const r = copy({ src, dst, expectHash: xxh128Hex(data) }, [], (v) => marks.push(v), procFd);
    expect(r).toEqual({ hash: xxh128Hex(data) });
    expect(fs.readFileSync(dst).equals(data)).toBe(true);
    expect(fs.statSync(dst).mode & 0o777).toBe(0o640);
    expect(marks).toEqual([1]);
  });

  it('a source changed since it was indexed: the copy is verified against the source as it is now', () => {
    const dir = tmp();
    const src = path.join(dir, 'a.jpg'), dst = path.join(dir, 'out.jpg');
    fs.writeFileSync(src, 'new content');
    expect(copy({ src, dst, expectHash: xxh128Hex(Buffer.from('old content')) }, [], undefined, procFd)).toEqual({ hash: xxh128Hex(Buffer.from('new content')) });
  });

  it('never overwrites: another file at the target stays as it was, and nothing was created (mark 3)', () => {
    const dir = tmp();
    const src = path.join(dir, 'a.jpg'), dst = path.join(dir, 'out.jpg');
    fs.writeFileSync(src, 'photo');
    fs.writeFileSync(dst, 'the user\'s file');
    const marks: number[] = [];
    const r = copy({ src, dst, expectHash: null }, [], (v) => marks.push(v), procFd);
    expect(r).toMatchObject({ error: { code: 'EEXIST' } });
    expect(fs.readFileSync(dst, 'utf8')).toBe('the user\'s file');
    expect(marks).toEqual([1, 3]);
  });

  it('a copy that fails leaves no file behind (mark 3)', () => {
    const dir = tmp();
    const dst = path.join(dir, 'out.jpg');
    const marks: number[] = [];
    const r = copy({ src: path.join(dir, 'missing.jpg'), dst, expectHash: null }, [], (v) => marks.push(v), procFd);
    expect(r).toMatchObject({ error: { code: 'ENOENT' } });
    expect(fs.existsSync(dst)).toBe(false);
    expect(marks).toEqual([1, 3]);
  });

  it('a corrupted copy or a failed read-back is caught, and the copy removed', () => {
    const dir = tmp();
    const src = path.join(dir, 'a.jpg');
    fs.writeFileSync(src, randomBytes(50_000));
    const h = xxh128Hex(fs.readFileSync(src));
    const bad = copy({ src, dst: path.join(dir, 'bad.jpg'), expectHash: h }, [{ at: 'corrupt', match: 'bad.jpg' }], undefined, procFd);
    expect(bad).toMatchObject({ error: { message: expect.stringMatching(/verification failed/) } });
    const unread = copy({ src, dst: path.join(dir, 'unread.jpg'), expectHash: h }, [{ at: 'read', match: 'unread.jpg', code: 'EIO' }], undefined, procFd);
    expect(unread).toMatchObject({ error: { code: 'EIO' } });
    expect(fs.readdirSync(dir)).toEqual(['a.jpg']);
  });

  it('a file put under the name before the copy is never touched (the copy fails with EEXIST, mark 3)', () => {
    const dir = tmp();
    const src = path.join(dir, 'a.jpg'), dst = path.join(dir, 'out.jpg'), theirs = path.join(dir, 'theirs.jpg');
    fs.writeFileSync(src, randomBytes(20_000));
    fs.writeFileSync(theirs, 'the user\'s file');
    const marks: number[] = [];
    // another program renames its file onto the name between our exclusive create and the copy
    const r = racing(() => fs.renameSync(theirs, dst), 'before', () => copy({ src, dst, expectHash: null }, [], (v) => marks.push(v), procFd));
    expect(r).toMatchObject({ error: { code: 'EEXIST' } });
    expect(fs.readFileSync(dst, 'utf8')).toBe('the user\'s file');
    expect(marks).toEqual([1, 3]);
  });

  it('reads back the whole file, also one larger than its reusable buffer', () => {
    const dir = tmp();
    const src = path.join(dir, 'big.raw'), dst = path.join(dir, 'out.raw');
    const data = randomBytes(3 << 20);
    fs.writeFileSync(src, data);
    expect(copy({ src, dst, expectHash: xxh128Hex(data) }, [], undefined, procFd)).toEqual({ hash: xxh128Hex(data) });
  });
});

/** Runs fn with fs.copyFileSync wrapped: `race` runs just before (or after) the real copy, as another program would. */
function racing<T>(race: () => void, when: 'before' | 'after', fn: () => T): T {
  const real = fs.copyFileSync;
  fs.copyFileSync = ((...a: Parameters<typeof real>) => { if (when === 'before') race(); real(...a); if (when === 'after') race(); }) as typeof real;
  try { return fn(); } finally { fs.copyFileSync = real; }
}

describe.runIf(process.platform === 'linux')('copy worker through /proc/self/fd: the file it verified is the file at the name', () => {
  it('a file renamed onto the name after the copy: reported (EEXIST, mark 3), and theirs is neither removed nor changed', () => {
    const dir = tmp();
    const src = path.join(dir, 'a.jpg'), dst = path.join(dir, 'out.jpg'), theirs = path.join(dir, 'theirs.jpg');
    const data = randomBytes(20_000);
    fs.writeFileSync(src, data);
    fs.writeFileSync(theirs, 'the user\'s file');
    const marks: number[] = [];
    const r = racing(() => fs.renameSync(theirs, dst), 'after', () => copy({ src, dst, expectHash: xxh128Hex(data) }, [], (v) => marks.push(v), true));
    expect(r).toMatchObject({ error: { code: 'EEXIST', message: expect.stringMatching(/replaced by another file/) } });
    expect(fs.readFileSync(dst, 'utf8')).toBe('the user\'s file');
    expect(marks).toEqual([1, 3]);
  });

  it('the copy removed by someone else right after it was made: reported (EEXIST), not counted as exported', () => {
    const dir = tmp();
    const src = path.join(dir, 'a.jpg'), dst = path.join(dir, 'out.jpg');
    fs.writeFileSync(src, 'photo');
    const r = racing(() => fs.unlinkSync(dst), 'after', () => copy({ src, dst, expectHash: null }, [], undefined, true));
    expect(r).toMatchObject({ error: { code: 'EEXIST', message: expect.stringMatching(/removed/) } });
  });

  it('a source that is a dangling symlink to the target is refused, and nothing is created', () => {
    const dir = tmp();
    const src = path.join(dir, 'link.jpg'), dst = path.join(dir, 'out.jpg');
    fs.symlinkSync(dst, src);
    const r = copy({ src, dst, expectHash: null }, [], undefined, true);
    expect(r).toHaveProperty('error');
    expect(fs.existsSync(dst)).toBe(false);
  });

  it('only on local file systems that reopen by inode: ext4, XFS, btrfs (not tmpfs, FUSE, SMB, NFS)', (ctx) => {
    const dir = tmp();
    const t = path.join(dir, 'tmpfs');
    const un = mountTmpfs(t, '4m');
    if (!un) { console.warn('tmpfs check skipped: cannot mount a tmpfs (not root?)'); ctx.skip(); return; }
    cleanups.push(un);
    expect(procFdFor(t)).toBe(false);
    expect(procFdFor(path.join(dir, 'missing', 'folder'))).toBe(false);
  });
});

describe('write-back of the copies (ext4)', () => {
  // An export's copies used to wait in memory as dirty pages until the next sync: exporting to disk then took up to
  // 1.5x as long as a plain fs.copyFile (whose truncation makes ext4 start the write-back when the copy is closed).
  // filefrag shows the difference at once: blocks are allocated (physical offsets) when write-back has started, and
  // 'delalloc' while the data only sits in memory.
  it('an export\'s copies have their blocks allocated when the export returns; an exclusive copy by name does not', async (ctx) => {
    if (process.platform !== 'linux') { console.warn('write-back test skipped: ext4 and /proc/self/fd are Linux only'); ctx.skip(); return; }
    const dir = tmp();
    const mnt = path.join(dir, 'ext4');
    const un = mountExt4(mnt);
    if (typeof un === 'string') { console.warn(`write-back test skipped: ${un}`); ctx.skip(); return; }
    cleanups.push(un);
    try { execFileSync('filefrag', ['-V'], { stdio: 'pipe' }); } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') { console.warn('write-back test skipped: filefrag not found (apt-get install e2fsprogs)'); ctx.skip(); return; }
    }
    const db = newDb(dir);
    const src = path.join(mnt, 'src'), dest = path.join(mnt, 'out');
    await makeLib(db, src, [{ rel: 'a.jpg', labels: ['A'], big: true }, { rel: 'b.jpg', labels: ['B'], big: true }]);
    execFileSync('sync');
    const flags = (file: string) => execFileSync('filefrag', ['-v', file], { encoding: 'utf8' });
    // the control: the exclusive copy by name leaves its data to a later write-back
    const control = path.join(mnt, 'control.jpg');
    expect(copy({ src: path.join(src, 'a.jpg'), dst: control, expectHash: null }, [], undefined, false)).toHaveProperty('hash');
    // (if write-back already started for everything, e.g. the machine's dirty memory is over its background limit,
    // the comparison below proves nothing)
    if (!/delalloc/.test(flags(control))) { console.warn('write-back test skipped: write-back started on its own for the control copy'); ctx.skip(); return; }
    expect(procFdFor(mnt)).toBe(true);
    const plan = await planExport(db, { to: dest, mode: 'copy', template: '{label}', unlabeled: 'folder', unsortedName: 'Unsorted', keywords: false });
    expect(await runExport({ db }, plan.exportId)).toMatchObject({ state: 'done', created: 2, failedTotal: 0 });
    const copies = listFiles(dest).filter((f) => f.endsWith('.jpg'));
    expect(copies).toEqual(['A/a.jpg', 'B/b.jpg']);
    for (const f of copies) expect(flags(path.join(dest, f)), f).not.toMatch(/delalloc/);
    db.close();
  });
});
