// Library roots (the folders the user added) and read queries over the photos table.
import fs from 'node:fs';
import path from 'node:path';
import type { DB } from '../store/db.ts';
import { ApiError } from '../api/errors.ts';
import type { Photo, RootInfo, LibraryStatus } from '../api/contract/library.ts';
import { normalizeDuplicates } from './duplicates.ts';

export interface RootRow {
  id: number; path: string;
  /** st_dev of the folder when it was last reachable with files in it (null: not known yet). */
  dev?: string | null;
}

/** Canonical absolute path of an existing folder (symlinks resolved), or a clear error. */
export function resolveFolder(p: string): string {
  const abs = path.resolve(p);
  let st: fs.Stats;
  try { st = fs.statSync(abs); } catch { throw new ApiError(`Folder not found: ${abs}`, 'not_found'); }
  if (!st.isDirectory()) throw new ApiError(`Not a folder: ${abs}`);
  return fs.realpathSync(abs);
}

export function addRoot(db: DB, p: string): RootRow {
  const real = resolveFolder(p);
  db.prepare('INSERT OR IGNORE INTO roots (path, added_at) VALUES (?, ?)').run(real, Date.now());
  return db.prepare('SELECT id, path, dev FROM roots WHERE path = ?').get(real) as RootRow;
}

export function listRootRows(db: DB): RootRow[] {
  return db.prepare('SELECT id, path, dev FROM roots ORDER BY id').all() as RootRow[];
}

/** Remembers the device of a folder that is reachable and not empty now (see rootOffline). */
export function recordRootDevice(db: DB, r: RootRow): void {
  let dev: string;
  try {
    dev = String(fs.statSync(r.path).dev);
    const d = fs.opendirSync(r.path);
    try { if (d.readSync() === null) return; } finally { d.closeSync(); }
  } catch { return; }
  if (dev !== r.dev) {
    db.prepare('UPDATE roots SET dev = ? WHERE id = ?').run(dev, r.id);
    r.dev = dev;
  }
}

const countPresent = (db: DB, rootId: number) =>
  (db.prepare("SELECT COUNT(*) AS n FROM photos WHERE root_id = ? AND status != 'missing'").get(rootId) as { n: number }).n;

/**
 * Why a library folder cannot be scanned right now, or null when it can. Not reachable: the folder is gone
 * (a disconnected drive, an unmounted share), is not a folder, cannot be opened, or is the empty mount point of
 * an unmounted drive: empty, on another device (st_dev) than when it last had files, while photos are indexed
 * in it. (An emptied folder on the same device is reachable: its photos become missing.) Photos under an
 * unreachable folder are left as they are: never marked missing, never matched as moved to a copy elsewhere.
 */
export function rootOffline(db: DB, r: RootRow): string | null {
  let st: fs.Stats;
  try { st = fs.statSync(r.path); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'library folder not found (disconnected drive?)' : `library folder cannot be reached (${code ?? (e as Error).message})`;
  }
  if (!st.isDirectory()) return 'library folder is not a folder any more';
  if (r.dev == null || String(st.dev) === r.dev) return null;
  let empty: boolean;
  try {
    const d = fs.opendirSync(r.path);
    try { empty = d.readSync() === null; } finally { d.closeSync(); }
  } catch (e) {
    return `library folder cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  if (empty) {
    const n = countPresent(db, r.id);
    if (n > 0) return `library folder is empty and on another device than before, with ${n} photo${n === 1 ? '' : 's'} indexed in it (drive not mounted?)`;
  }
  return null;
}

export function rootInfo(db: DB, r: RootRow): RootInfo {
  return { id: r.id, path: r.path, photos: countPresent(db, r.id), offline: rootOffline(db, r) };
}

const under = (p: string, dir: string) => p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);

/** Forgets a root and the photos under it that no other root covers. Files on disk are never touched. */
export function removeRoot(db: DB, p: string): { removed: boolean; photos: number } {
  const abs = path.resolve(p);
  let real = abs;
  try { real = fs.realpathSync(abs); } catch { /* the folder may be gone: match the stored path */ }
  const row = (db.prepare('SELECT id, path FROM roots WHERE path = ? OR path = ?').get(real, abs) as RootRow | undefined);
  if (!row) return { removed: false, photos: 0 };
  const others = listRootRows(db).filter((r) => r.id !== row.id);
  let n = 0;
  db.transaction(() => {
    const del = db.prepare('DELETE FROM photos WHERE id = ?');
    const hashes: (string | null)[] = [];
    for (const ph of db.prepare('SELECT id, path, hash FROM photos WHERE root_id = ? OR path LIKE ?').all(row.id, row.path + '%') as { id: number; path: string; hash: string | null }[]) {
      if (!under(ph.path, row.path) && ph.path !== row.path) continue;
      const other = others.find((o) => under(ph.path, o.path));
      if (other) { db.prepare('UPDATE photos SET root_id = ? WHERE id = ?').run(other.id, ph.id); continue; }
      del.run(ph.id);
      hashes.push(ph.hash);
      n++;
    }
    db.prepare('DELETE FROM roots WHERE id = ?').run(row.id);
    // duplicates (in other folders) of the removed photos: one of them becomes the original
    normalizeDuplicates(db, hashes);
  })();
  return { removed: true, photos: n };
}

interface PhotoRow {
  id: number; path: string; size: number; hash: string | null; format: string | null; width: number | null; height: number | null;
  taken_at: string | null; orientation: number | null; gps_lat: number | null; gps_lon: number | null; camera_make: string | null;
  camera_model: string | null; thumb: string | null; status: Photo['status']; error: string | null; warning: string | null; duplicate_of: number | null;
}

export function toPhoto(r: PhotoRow, thumbsDir: string): Photo {
  return {
    id: r.id, path: r.path, size: r.size, hash: r.hash, format: r.format, width: r.width, height: r.height,
    takenAt: r.taken_at, orientation: r.orientation,
    gps: r.gps_lat !== null && r.gps_lon !== null ? { lat: r.gps_lat, lon: r.gps_lon } : null,
    camera: r.camera_make !== null || r.camera_model !== null ? { make: r.camera_make, model: r.camera_model } : null,
    thumbnail: r.thumb ? path.join(thumbsDir, r.thumb) : null,
    status: r.status, error: r.error, warning: r.warning, duplicateOf: r.duplicate_of,
  };
}

const COLS = 'id, path, size, hash, format, width, height, taken_at, orientation, gps_lat, gps_lon, camera_make, camera_model, thumb, status, error, warning, duplicate_of';

export function queryPhotos(db: DB, thumbsDir: string, q: { status: string; ids?: number[]; offset: number; limit?: number }): Photo[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.status !== 'all') { where.push('status = ?'); args.push(q.status); }
  if (q.ids) {
    if (!q.ids.length) return [];
    where.push(`id IN (SELECT value FROM json_each(?))`);
    args.push(JSON.stringify(q.ids));
  }
  const sql = `SELECT ${COLS} FROM photos ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id LIMIT ? OFFSET ?`;
  args.push(q.limit ?? -1, q.offset);
  return (db.prepare(sql).all(...args) as PhotoRow[]).map((r) => toPhoto(r, thumbsDir));
}

export function getPhoto(db: DB, thumbsDir: string, id: number): Photo {
  const r = db.prepare(`SELECT ${COLS} FROM photos WHERE id = ?`).get(id) as PhotoRow | undefined;
  if (!r) throw new ApiError(`No photo with id ${id}`, 'not_found');
  return toPhoto(r, thumbsDir);
}

export function libraryStatus(db: DB, dbPath: string): LibraryStatus {
  const roots = listRootRows(db).map((r) => rootInfo(db, r));
  const c = db.prepare(`SELECT COUNT(*) AS photos,
      SUM(status = 'ok') AS ok, SUM(status = 'missing') AS missing, SUM(status = 'failed') AS failed,
      SUM(status = 'pending') AS pending, SUM(duplicate_of IS NOT NULL AND status = 'ok') AS duplicates FROM photos`).get() as Record<string, number | null>;
  return {
    roots,
    photos: c.photos ?? 0, ok: c.ok ?? 0, missing: c.missing ?? 0, failed: c.failed ?? 0, pending: c.pending ?? 0, duplicates: c.duplicates ?? 0,
    offline: roots.reduce((n, r) => n + (r.offline ? r.photos : 0), 0),
    dbPath,
  };
}
