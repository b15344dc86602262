// Recursive crawl of a library root with fdir. Skips hidden folders, Sift's own data folder and export
// folders (a folder holding a `.sift-export` marker file). Symlinks are not followed (so no loop is
// possible); unreadable folders are reported, and the crawl goes on.
import fs from 'node:fs';
import path from 'node:path';
import { fdir } from 'fdir';

export const EXPORT_MARKER = '.sift-export';

/** Extensions of the files looked at; the type is then decided by content. Files without extension too. */
export const PHOTO_EXTENSIONS = new Set(['jpg', 'jpeg', 'jpe', 'jfif', 'png', 'webp', 'gif', 'tif', 'tiff', 'avif', 'heic', 'heif', 'hif']);

export interface CrawlResult {
  files: string[];
  /** Folders that could not be read, with the reason. */
  unreadable: { path: string; error: string }[];
  /** Non-photo files seen (by extension) and symlinks not followed. */
  skipped: number;
}

export function isCandidate(file: string): boolean {
  const base = path.basename(file);
  if (base.startsWith('.')) return false;
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return true;
  return PHOTO_EXTENSIONS.has(base.slice(dot + 1).toLowerCase());
}

export interface CrawlOptions {
  /** Absolute folders never entered (Sift's data folder). */
  excludeDirs?: string[];
  signal?: AbortSignal;
}

export async function crawl(root: string, opts: CrawlOptions = {}): Promise<CrawlResult> {
  const unreadable: CrawlResult['unreadable'] = [];
  let skipped = 0;
  const exclude = (opts.excludeDirs ?? []).map((d) => path.resolve(d));
  const reason = (e: NodeJS.ErrnoException) =>
    e.code === 'EACCES' || e.code === 'EPERM' ? `folder could not be read: permission denied (${e.code})` : `folder could not be read: ${e.code ?? e.message}`;
  // fdir with a readdir that records errors instead of dropping them silently
  const readdir = ((p: fs.PathLike, options: unknown, cb: (err: NodeJS.ErrnoException | null, entries: fs.Dirent[]) => void) => {
    fs.readdir(p, options as { withFileTypes: true }, (err, entries) => {
      if (err) {
        unreadable.push({ path: String(p).replace(/[\\/]+$/, '') || String(p), error: reason(err) });
        cb(null, []);
      } else cb(null, entries);
    });
  }) as unknown as typeof fs.readdir;
  const readdirSync = ((p: fs.PathLike, options: unknown) => {
    try { return fs.readdirSync(p, options as { withFileTypes: true }); } catch (e) { unreadable.push({ path: String(p), error: reason(e as NodeJS.ErrnoException) }); return []; }
  }) as unknown as typeof fs.readdirSync;

  let builder = new fdir({ excludeSymlinks: true, fs: { readdir, readdirSync, realpath: fs.realpath, realpathSync: fs.realpathSync, stat: fs.stat, statSync: fs.statSync } })
    .withFullPaths()
    .exclude((name, dirPath) => {
      if (name.startsWith('.')) return true;
      const d = path.resolve(dirPath);
      if (exclude.some((x) => d === x || d.startsWith(x + path.sep))) return true;
      try { fs.accessSync(path.join(d, EXPORT_MARKER)); return true; } catch { return false; }
    })
    .filter((p, isDir) => {
      if (isDir) return false;
      if (!isCandidate(p)) { skipped++; return false; }
      return true;
    });
  if (opts.signal) builder = builder.withAbortSignal(opts.signal);
  // the root itself may be an export folder
  try { fs.accessSync(path.join(root, EXPORT_MARKER)); return { files: [], unreadable, skipped }; } catch { /* not one */ }
  const files = await builder.crawl(root).withPromise();
  return { files, unreadable, skipped };
}
