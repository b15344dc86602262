// Thumbnail cache upkeep: temp files left by a killed scan, and thumbnails no photo uses any more (photos of a
// removed folder, the old version of a changed file). The cache is content-addressed (`<2 hex>/<hash>.jpg`,
// shared by duplicates and moves), so a thumbnail is garbage only when no row of the database names it.
//
// Safety:
//   - only files named like the cache's own (`<32 hex>.jpg`, `*.tmp`) inside `<2 hex>/` folders are ever removed;
//   - only files older than `minAgeMs` (10 min): a scan writes a thumbnail before the row that names it, and the
//     worker touches (mtime) a thumbnail it reuses, so a thumbnail of a row being written now is never removed;
//   - two databases in one folder share one cache (`sift-data/` next to the database): each database that
//     indexes into a cache is listed in its `.databases` file, and unused thumbnails are removed only while
//     one existing database uses the cache (the others' rows are not visible from here).
import fs from 'node:fs';
import path from 'node:path';
import type { DB } from '../store/db.ts';

const USERS = '.databases';
const THUMB_RE = /^[0-9a-f]{32}\.jpg$/;
const DIR_RE = /^[0-9a-f]{2}$/;

/** Records that the database at dbPath indexes into this thumbnail cache. */
export function registerCacheUser(thumbsDir: string, dbPath: string): void {
  const me = dbPath === ':memory:' ? dbPath : path.resolve(dbPath);
  const file = path.join(thumbsDir, USERS);
  let users: string[] = [];
  try { users = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean); } catch { /* first one */ }
  if (users.includes(me)) return;
  try { fs.appendFileSync(file, me + '\n'); } catch { /* a read-only cache: nothing will be removed anyway */ }
}

/** Other existing databases that index into this cache (their rows are not visible from this one). */
export function otherCacheUsers(thumbsDir: string, dbPath: string): string[] {
  const me = dbPath === ':memory:' ? dbPath : path.resolve(dbPath);
  let users: string[];
  try { users = fs.readFileSync(path.join(thumbsDir, USERS), 'utf8').split('\n').filter(Boolean); } catch { return []; }
  return [...new Set(users)].filter((u) => u !== me && u !== ':memory:' && fs.existsSync(u));
}

export interface GcOptions {
  /** Only files at least this old are removed (default 10 min). */
  minAgeMs?: number;
  /** Only temp files (a cancelled scan: the index is incomplete, so "unused" is not known). */
  tempOnly?: boolean;
  /** The database's own path: unused thumbnails are kept when another database shares the cache. */
  dbPath?: string;
}

export interface GcResult { removed: number; temp: number; kept: number; shared: string[] }

/** Removes stale temp files and the thumbnails no row of `db` names (see the safety notes above). */
export async function thumbnailGc(db: DB, thumbsDir: string, opts: GcOptions = {}): Promise<GcResult> {
  const minAge = opts.minAgeMs ?? 10 * 60_000;
  const shared = opts.dbPath ? otherCacheUsers(thumbsDir, opts.dbPath) : [];
  const unusedToo = !opts.tempOnly && shared.length === 0;
  const out: GcResult = { removed: 0, temp: 0, kept: 0, shared };
  let dirs: string[];
  try { dirs = await fs.promises.readdir(thumbsDir); } catch { return out; }
  let used: Set<string> | null = null;
  const now = Date.now();
  const old = async (f: string) => {
    try { return now - (await fs.promises.stat(f)).mtimeMs >= minAge; } catch { return false; }
  };
  for (const d of dirs) {
    if (!DIR_RE.test(d)) continue;
    let names: string[];
    try { names = await fs.promises.readdir(path.join(thumbsDir, d)); } catch { continue; }
    for (const n of names) {
      const f = path.join(thumbsDir, d, n);
      if (n.endsWith('.tmp')) {
        if (await old(f)) { await fs.promises.rm(f, { force: true }); out.temp++; }
        continue;
      }
      if (!unusedToo || !THUMB_RE.test(n)) continue;
      // the names in use, read after the listing: a row committed meanwhile names a thumbnail that is fresh
      used ??= new Set((db.prepare('SELECT DISTINCT thumb FROM photos WHERE thumb IS NOT NULL').pluck().all() as string[]).map((t) => path.basename(t)));
      if (used.has(n)) continue;
      if (await old(f)) { await fs.promises.rm(f, { force: true }); out.removed++; } else out.kept++;
    }
  }
  return out;
}
