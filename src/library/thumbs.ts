// Thumbnail cache upkeep: temp files left by a killed scan, and thumbnails no photo uses any more (photos of a
// removed folder, the old version of a changed file). The cache is content-addressed (`<2 hex>/<hash>.jpg`,
// shared by duplicates and moves), so a thumbnail is garbage only when no row of the database names it.
//
// Safety:
//   - only files named like the cache's own (`<32 hex>.jpg`, `*.tmp`) inside `<2 hex>/` folders are ever removed;
//   - only files older than `minAgeMs` (10 min): a scan writes a thumbnail before the row that names it, and the
//     worker touches (mtime) a thumbnail it reuses, so a thumbnail of a row being written now is never removed;
//     whether a row names it is checked again right before removing it;
//   - two databases in one folder share one cache (`sift-data/` next to the database): each database that
//     indexes into a cache is listed in its `.databases` file, and unused thumbnails are removed only while
//     one existing database uses the cache (the others' rows are not visible from here); any other SQLite
//     file beside the database counts as a user too, listed or not.
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

/**
 * Other existing databases that may use this cache (their rows are not visible from here): the ones listed in
 * `.databases`, and any other SQLite file beside this database (the cache is `sift-data/` next to it, so a
 * database there that has not indexed since `.databases` existed shares it too).
 */
export function otherCacheUsers(thumbsDir: string, dbPath: string): string[] {
  const me = dbPath === ':memory:' ? dbPath : path.resolve(dbPath);
  let users: string[] = [];
  try { users = fs.readFileSync(path.join(thumbsDir, USERS), 'utf8').split('\n').filter(Boolean); } catch { /* none listed */ }
  const out = new Set(users.filter((u) => u !== me && u !== ':memory:' && fs.existsSync(u)));
  if (me !== ':memory:') for (const f of siblingDatabases(path.dirname(me))) if (f !== me) out.add(f);
  return [...out];
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/** SQLite database files in a folder (by their 16-byte header; -wal/-shm/-journal files are not databases). */
function siblingDatabases(dir: string): string[] {
  let names: string[];
  try { names = fs.readdirSync(dir); } catch { return []; }
  const out: string[] = [];
  const head = Buffer.alloc(16);
  for (const n of names) {
    if (/-(wal|shm|journal)$/.test(n)) continue;
    const f = path.join(dir, n);
    let fd: number | undefined;
    try {
      fd = fs.openSync(f, 'r');
      if (fs.fstatSync(fd).isFile() && fs.readSync(fd, head, 0, 16, 0) === 16 && head.equals(SQLITE_MAGIC)) out.push(f);
    } catch { /* unreadable, or not a file */ } finally { if (fd !== undefined) fs.closeSync(fd); }
  }
  return out;
}

export interface GcOptions {
  /** Only files at least this old are removed (default 10 min). */
  minAgeMs?: number;
  /** Also list the whole cache: stale temp files, and unused thumbnails no trigger recorded (a killed scan's).
   *  Costs a listing of every thumbnail (about 0.1 s per 10,000); without it only the candidates recorded
   *  by the triggers of migration 006 (deleted photos, changed files) are looked at. */
  sweep?: boolean;
  /** Only temp files (a cancelled scan: the index is incomplete). Implies sweep. */
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
  const now = Date.now();
  const old = async (f: string) => {
    try { return now - (await fs.promises.stat(f)).mtimeMs >= minAge; } catch { return false; }
  };
  // is a thumbnail (its relative path, `<2 hex>/<hash>.jpg`) named by a row? by its hash, so the index is used
  const inUse = db.prepare('SELECT 1 FROM photos WHERE hash = ? AND thumb IS NOT NULL LIMIT 1').pluck();
  const hashOf = (name: string) => name.slice(0, -4);

  // 1. the candidates the triggers recorded
  if (unusedToo) {
    const done = db.prepare('DELETE FROM thumb_gc WHERE thumb = ?');
    for (const rel of db.prepare('SELECT thumb FROM thumb_gc').pluck().all() as string[]) {
      const name = path.basename(rel);
      const f = path.join(thumbsDir, rel);
      if (!THUMB_RE.test(name) || inUse.get(hashOf(name))) { done.run(rel); continue; }
      if (!fs.existsSync(f)) { done.run(rel); continue; }
      if (!(await old(f))) { out.kept++; continue; } // young: maybe about to be named again; next time
      // checked again right before: a row may have been committed meanwhile
      if (inUse.get(hashOf(name))) { done.run(rel); continue; }
      await fs.promises.rm(f, { force: true });
      done.run(rel);
      out.removed++;
    }
  }
  if (!opts.sweep && !opts.tempOnly) return out;

  // 2. the whole cache
  let dirs: string[];
  try { dirs = await fs.promises.readdir(thumbsDir); } catch { return out; }
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
      if (!unusedToo || !THUMB_RE.test(n) || inUse.get(hashOf(n))) continue;
      if (!(await old(f))) { out.kept++; continue; }
      if (inUse.get(hashOf(n))) continue;
      await fs.promises.rm(f, { force: true });
      out.removed++;
    }
  }
  return out;
}
