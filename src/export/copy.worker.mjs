// Worker of the export's copy fast path (see copy.ts): for each file, exclusive copy, read back, xxh3-128 check, as
// one synchronous sequence; several files per task. The PROC_FD note below explains how the copy is made.
//
// Plain JavaScript on purpose: a TypeScript worker needs tsx (esbuild) loaded in every thread, which costs about
// 0.4 s of CPU per thread at every start; this file loads in a few milliseconds. Its types are in copy.ts
// (CopyJob, CopyTask, CopyResult, WorkerFault); test/export covers it through the pool (including injected faults).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

// xxh3-128 by xxhash-addon (the reference C xxHash, SIMD): the same function as src/util/hash.ts, the indexer's.
// At 40-57 GB/s it is no longer most of the verification's cost (the WebAssembly build used before ran at 6-7 GB/s,
// and hashing cost as much CPU as the copy itself for files of a few MB).
const { XXHash128 } = createRequire(import.meta.url)('xxhash-addon');

/** xxh3-128, 32 hex digits (as xxh128Hex in src/util/hash.ts: the library's photos.hash format). */
function hash128(buf) {
  return XXHash128.hash(buf).toString('hex');
}

function sameHex(a, b) {
  if (!a || !b) return false;
  if (a.length === b.length) return a.toLowerCase() === b.toLowerCase();
  try { return BigInt('0x' + a) === BigInt('0x' + b); } catch { return false; }
}

function errInfo(e) {
  return { code: typeof e?.code === 'string' ? e.code : undefined, message: String(e?.message ?? e) };
}

function injected(code, what) {
  return Object.assign(new Error(`${code}: injected fault, ${what}`), { code });
}

// One read buffer per thread, reused: a fresh buffer per file (readFileSync) costs more than the read itself
// (allocation and first-touch page faults of a new 100 kB+ block).
let scratch = Buffer.allocUnsafeSlow(1 << 20);
const SCRATCH_MAX = 64 << 20;

/** The whole content of the open file `fd` (read from offset 0; `st`: its fstat), in this thread's scratch buffer
 *  (valid until the next call). */
function readAll(fd, st = fs.fstatSync(fd)) {
  const size = st.size;
  if (size >= SCRATCH_MAX) return readLarge(fd, size);   // very large files get their own buffer
  if (scratch.length < size + 1) scratch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_MAX, Math.max(size + 1, scratch.length * 2)));
  // read until EOF (size + 1 detects a file that grew since fstat)
  let n = 0;
  for (;;) {
    if (n === scratch.length) return readLarge(fd, n * 2);   // it grew past the buffer while being read
    const r = fs.readSync(fd, scratch, n, scratch.length - n, n);
    if (r === 0) break;
    n += r;
  }
  return scratch.subarray(0, n);
}

function readLarge(fd, hint) {
  let buf = Buffer.allocUnsafe(hint + 1), n = 0;
  for (;;) {
    if (n === buf.length) { const b = Buffer.allocUnsafe(buf.length * 2); buf.copy(b, 0, 0, n); buf = b; }
    const r = fs.readSync(fd, buf, n, buf.length - n, n);
    if (r === 0) return buf.subarray(0, n);
    n += r;
  }
}

// COPYFILE_FICLONE: a copy-on-write clone where the file system can (APFS on macOS, where libuv's plain copy does
// not clone; btrfs and XFS clone through copy_file_range anyway), else an ordinary copy. The clone is a full,
// independent file for every purpose and costs no space until one side changes.
const COPY_FLAGS = fs.constants.COPYFILE_EXCL | fs.constants.COPYFILE_FICLONE;

// On Linux, on the local file systems below, the copy goes into a file this thread created exclusively and holds
// open, through /proc/self/fd/N (the open file itself, whatever its name points to by then). libuv's copy into an
// existing file truncates it to zero first, and ext4 (auto_da_alloc), XFS and btrfs start the write-back of a file
// truncated to zero when it is closed. An exclusive copy (COPYFILE_EXCL) skips that truncation, so all of an export's
// data stayed dirty in memory until the next sync: exporting 422 MB to disk then took 1.5x as long to reach the disk
// as a plain fs.copyFile (which truncates). The held descriptor also serves the read-back: one open fewer, and it
// reads the very file we wrote. Only where the reopen is known to reach the same inode without looking the name up
// again: on FUSE, SMB or NFS a reopen goes by path on the server, and a file put under our name in between could be
// the one truncated. Elsewhere (other file systems, no /proc, other systems, SIFT_COPY_BY_NAME=1): the exclusive copy
// by name.
export const PROC_FD = process.env.SIFT_COPY_BY_NAME !== '1' && process.platform === 'linux' && (() => {
  let fd = -1;
  try {
    fd = fs.openSync(new URL(import.meta.url), 'r');
    const a = fs.fstatSync(fd), b = fs.statSync(`/proc/self/fd/${fd}`);
    return a.ino === b.ino && a.dev === b.dev;
  } catch { return false; } finally { if (fd >= 0) fs.closeSync(fd); }
})();

/** statfs f_type of the file systems where the copy goes through /proc/self/fd (see PROC_FD). */
export const PROC_FD_FS = new Map([[0xef53, 'ext4'], [0x58465342, 'xfs'], [0x9123683e, 'btrfs']]);
const procFdByDir = new Map();

/** Whether copies into `dir` go through /proc/self/fd (PROC_FD, and dir is on ext4, XFS or btrfs); cached. */
export function procFdFor(dir) {
  if (!PROC_FD) return false;
  let v = procFdByDir.get(dir);
  if (v === undefined) {
    try { v = PROC_FD_FS.has(fs.statfsSync(dir).type); } catch { v = false; }
    if (procFdByDir.size > 10_000) procFdByDir.clear();
    procFdByDir.set(dir, v);
  }
  return v;
}

function closeQuietly(fd) {
  if (fd >= 0) try { fs.closeSync(fd); } catch { /* nothing to do */ }
}

function sameFile(a, b) { return a.ino === b.ino && a.dev === b.dev; }

/**
 * Removes `file` if it is still the file open as `fd` (ours): a file someone else put at that name is never removed.
 * True when no file of ours is left at the name.
 */
function unlinkOurs(file, fd) {
  try {
    if (sameFile(fs.fstatSync(fd), fs.lstatSync(file))) fs.unlinkSync(file);
    return true;
  } catch (e) { return e?.code === 'ENOENT'; }
}

/** The error, with /proc/self/fd/N in its message replaced by the target's name. */
function named(e, fdPath, dst) {
  if (fdPath && typeof e?.message === 'string' && e.message.includes(fdPath)) e.message = e.message.split(fdPath).join(dst);
  return e;
}

/**
 * The copy (hash h, fstat st) differs from the index: the source may have changed since it was indexed, so the copy
 * must equal the source as it is now. Never the new file itself: a source that is a dangling symlink to the target
 * resolves to it once it exists (libuv then "copies" the file onto itself, and the empty file would verify).
 */
function verifyAgainstSource(job, h, st) {
  const sfd = fs.openSync(job.src, 'r');
  try {
    const sst = fs.fstatSync(sfd);
    if (sameFile(sst, st)) throw Object.assign(new Error(`${job.src} resolves to the new file ${job.dst}`), { code: 'EINVAL' });
    if (!sameHex(h, hash128(readAll(sfd, sst)))) throw new Error(`verification failed: the copy differs from ${job.src}`);
  } finally { fs.closeSync(sfd); }
}

/**
 * Exclusive copy (never overwrites: O_EXCL), then the copy is read back and hashed: it must equal the expected hash
 * (the index's), or the source as it is now (changed since it was indexed). Any failure after the copy was created
 * removes it (only while the name still holds our file). `procFd`: copy through /proc/self/fd (see PROC_FD; by
 * default where procFdFor says so); tests force either path.
 */
export function copyVerifySync(job, faults = [], mark = () => {}, procFd = procFdFor(path.dirname(job.dst))) {
  const hit = (at) => faults.find((f) => f.at === at && (job.src.includes(f.match) || job.dst.includes(f.match))) ?? null;
  mark(1);   // copying: from here, a file at job.dst is ours (the copy is exclusive), until the copy fails
  let fd = -1, fdPath = '';
  try {
    const f = hit('copy');
    if (f) throw injected(f.code ?? 'EIO', `copyFile '${job.dst}'`);
    if (procFd) {
      fd = fs.openSync(job.dst, 'wx+');   // O_RDWR | O_CREAT | O_EXCL
      fs.fchmodSync(fd, 0o600);            // only ours while it is written (whatever the umask); libuv then sets the source's mode
      fdPath = `/proc/self/fd/${fd}`;
      fs.copyFileSync(job.src, fdPath, fs.constants.COPYFILE_FICLONE);
    } else fs.copyFileSync(job.src, job.dst, COPY_FLAGS);   // a copy that fails midway is removed by libuv
  } catch (e) {
    // nothing created (e.g. EEXIST: another file is there), or the file we created is removed again
    const left = fd >= 0 && !unlinkOurs(job.dst, fd);
    closeQuietly(fd);
    if (!left) mark(3);
    return { error: errInfo(named(e, fdPath, job.dst)) };
  }
  if (hit('crash')) { closeQuietly(fd); throw new Error(`injected fault: the worker stopped after copying ${job.dst}`); }
  try {
    if (hit('corrupt')) fs.appendFileSync(job.dst, 'x');
    const f = hit('read');
    if (f) throw injected(f.code ?? 'EIO', `readFile '${job.dst}'`);
    if (fd < 0) fd = fs.openSync(job.dst, 'r');   // by name: what is there now (ours, unless replaced since the copy)
    const st = fs.fstatSync(fd);
    const h = hash128(readAll(fd, st));
    if (!sameHex(h, job.expectHash)) verifyAgainstSource(job, h, st);
    // the verified file must still be the one at the name (not removed, nor replaced by someone else's since)
    let at;
    try { at = fs.lstatSync(job.dst); } catch { at = null; }
    if (!at || !sameFile(at, st)) {
      mark(3);   // nothing of ours is at the name: the engine picks the name again (EEXIST) and copies once more
      return { error: { code: 'EEXIST', message: `${job.dst} was ${at ? 'replaced by another file' : 'removed'} while it was being exported` } };
    }
    return { hash: h };
  } catch (e) {
    if (fd >= 0) unlinkOurs(job.dst, fd);
    else { try { fs.unlinkSync(job.dst); } catch { /* already gone */ } }
    return { error: errInfo(e) };
  } finally { closeQuietly(fd); }
}

/**
 * The task: { jobs: CopyJob[], faults?: WorkerFault[], progress?: SharedArrayBuffer, cancel?: SharedArrayBuffer }
 * -> CopyResult[] (same order).
 * progress (one Int32 per job, shared with the engine) says what happened to each job even if the task dies midway:
 * 0 = not reached, 1 = its exclusive copy started (a file at the target is ours), 2 = finished after creating the
 * target, 3 = its copy failed: nothing was created (e.g. EEXIST, another file is there).
 * cancel (one Int32 per job, written by the engine): a job whose flag is 1 when the worker reaches it is skipped
 * (ECANCELED, nothing created, its progress stays 0), so a cancelled export stops after the file each thread is on.
 */
export default function run(task) {
  const flags = task.progress ? new Int32Array(task.progress) : null;
  const stops = task.cancel ? new Int32Array(task.cancel) : null;
  return task.jobs.map((job, k) => {
    if (stops && Atomics.load(stops, k) === 1) return { error: { code: 'ECANCELED', message: `cancelled before ${job.dst} was created` } };
    const r = copyVerifySync(job, task.faults, (v) => { if (flags) Atomics.store(flags, k, v); });
    if (flags && Atomics.load(flags, k) === 1) Atomics.store(flags, k, 2);
    return r;
  });
}
