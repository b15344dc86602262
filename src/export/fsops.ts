// The file-system seam of the export: every operation that touches the disk goes through an ExportFs, so that
// tests can inject faults (ENOSPC, EACCES, EXDEV, a kill at the n-th operation) without touching the engine code.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { xxh128Hex } from '../util/hash.ts';

export interface ExportFs {
  /** Exclusive copy: fails with EEXIST when dst exists (COPYFILE_EXCL). */
  copyFileExcl(src: string, dst: string): Promise<void>;
  /** Hard link: fails with EEXIST when dst exists, EXDEV across devices. */
  link(src: string, dst: string): Promise<void>;
  symlink(target: string, dst: string): Promise<void>;
  /** Exclusive create + write + fsync (flag 'wx'; no fsync with sync: false). */
  writeFileExcl(file: string, data: string | Uint8Array, opts?: { sync?: boolean }): Promise<void>;
  unlink(file: string): Promise<void>;
  mkdir(dir: string): Promise<void>;
  rmdir(dir: string): Promise<void>;
  readFile(file: string): Promise<Buffer>;
  readdir(dir: string): Promise<string[]>;
  readlink(file: string): Promise<string>;
  /** lstat; null when the path does not exist. */
  lstat(file: string): Promise<fs.Stats | null>;
  /** lstat of many paths (null: missing or unreadable). Optional: the plan falls back to lstat one by one. */
  lstatMany?(files: string[]): Promise<(fs.Stats | null)[]>;
  fsyncFile(file: string): Promise<void>;
  fsyncDir(dir: string): Promise<void>;
  /**
   * Optional fast path: exclusive copy + read back + hash check as one step (in worker threads, see copy.ts).
   * Resolves to the verified hash; on any failure after the copy was created, the copy is removed. Without it
   * the export does the same with the primitives above (that is what the fault-injecting tests wrap).
   * `signal`: once aborted, a copy that has not started yet is not made: it rejects with code ECANCELED and
   * nothing was created (a copy already started finishes).
   */
  copyVerified?(src: string, dst: string, expectHash: string | null, signal?: AbortSignal): Promise<string>;
}

async function fsyncPath(p: string, flags: string): Promise<void> {
  const fh = await fsp.open(p, flags);
  try { await fh.sync(); } finally { await fh.close(); }
}

// Metadata calls (lstat, mkdir, readdir, link, symlink, unlink, rmdir, readlink) are made synchronously: each takes
// microseconds on a local disk, while a thread-pool round trip costs far more (milliseconds on a loaded machine), and
// the export makes many of them one after the other (a folder before its files, a link before its check). File
// contents are never read or written synchronously on the engine's thread: copies and their read-back run in the
// copy workers (copy.ts), the other reads and writes are asynchronous.
const sync = <A extends unknown[], R>(f: (...a: A) => R) => async (...a: A): Promise<R> => f(...a);

export const nodeFs: ExportFs = {
  // a copy-on-write clone where the file system can (see COPY_FLAGS in copy.worker.mjs), else a copy
  copyFileExcl: (src, dst) => fsp.copyFile(src, dst, fs.constants.COPYFILE_EXCL | fs.constants.COPYFILE_FICLONE),
  link: sync((src: string, dst: string) => fs.linkSync(src, dst)),
  symlink: sync((target: string, dst: string) => fs.symlinkSync(target, dst)),
  async writeFileExcl(file, data, opts) {
    if (opts?.sync === false && data.length < 65536) { fs.writeFileSync(file, data, { flag: 'wx' }); return; }   // a small note
    const fh = await fsp.open(file, 'wx');
    try { await fh.writeFile(data); if (opts?.sync !== false) await fh.sync(); } finally { await fh.close(); }
  },
  unlink: sync((f: string) => fs.unlinkSync(f)),
  mkdir: sync((d: string) => { fs.mkdirSync(d); }),
  rmdir: sync((d: string) => fs.rmdirSync(d)),
  readFile: (f) => fsp.readFile(f),
  readdir: sync((d: string) => fs.readdirSync(d)),
  readlink: sync((f: string) => fs.readlinkSync(f)),
  lstat: sync((f: string) => {
    try { return fs.lstatSync(f, { throwIfNoEntry: false }) ?? null; } catch (e) { if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return null; throw e; }
  }),
  // in slices of 256 synchronous calls (a few microseconds each from the dentry cache), yielding to the event loop
  // between slices: several times cheaper than one thread-pool round trip per file (the plan stats every source)
  async lstatMany(files) {
    const out: (fs.Stats | null)[] = [];
    for (let i = 0; i < files.length; i++) {
      if (i && i % 256 === 0) await new Promise((r) => setImmediate(r));
      try { out.push(fs.lstatSync(files[i], { throwIfNoEntry: false }) ?? null); } catch { out.push(null); }
    }
    return out;
  },
  fsyncFile: (f) => fsyncPath(f, 'r+'),
  fsyncDir: (d) => fsyncPath(d, 'r').catch((e) => { if ((e as NodeJS.ErrnoException).code !== 'EISDIR' && (e as NodeJS.ErrnoException).code !== 'EINVAL') throw e; }),
};

/** xxh3-128 of the content, 32 hex digits (the library's photos.hash format). */
export { xxh128Hex as hashBuffer };

export async function hashFile(xfs: ExportFs, file: string): Promise<string> {
  return xxh128Hex(await xfs.readFile(file));
}

/** Compares two hex hashes by value (tolerates different zero padding / case). */
export function sameHash(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return false;
  try { return BigInt('0x' + a) === BigInt('0x' + b); } catch { return false; }
}

export function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

/** A clear, user-facing message for a file-system error. */
export function describeFsError(e: unknown, what: string): string {
  const code = errCode(e);
  switch (code) {
    case 'ENOSPC': return `disk full while ${what}`;
    case 'EDQUOT': return `disk quota exceeded while ${what}`;
    case 'EACCES': case 'EPERM': return `permission denied while ${what}`;
    case 'EROFS': return `read-only file system while ${what}`;
    case 'ENOENT': return `not found while ${what}`;
    case 'ENAMETOOLONG': return `name too long while ${what}`;
    default: return `${(e as Error)?.message ?? String(e)} (while ${what})`;
  }
}
