// When the `.sift-export` marker may be written, and where a move must not go.
//
// The library scan skips every folder holding the marker (src/library/crawl.ts), with its whole subtree, and a
// library root holding it is not scanned at all. So the marker must never be written where indexed photos are (they
// would turn up missing on the next scan), and a move must never put library photos under a marked folder.
import path from 'node:path';
import type { DB } from '../store/db.ts';
import type { ExportFs } from './fsops.ts';
import { EXPORT_MARKER } from '../library/crawl.ts';

function inside(dir: string): { eq: string; prefix: string } {
  const d = path.resolve(dir);
  return { eq: d, prefix: d.endsWith(path.sep) ? d : d + path.sep };
}

/**
 * Why the destination of a copy, hard-link or symlink export must NOT be marked (null: marking is safe): it is a
 * library root or holds one, or it holds indexed photos (any status but removed), which the scan would then skip.
 */
export function markerUnsafeReason(db: DB, dest: string): string | null {
  const { eq, prefix } = inside(dest);
  const root = db.prepare(`SELECT path FROM roots WHERE path = ? OR substr(path, 1, length(?)) = ? LIMIT 1`).get(eq, prefix, prefix) as { path: string } | undefined;
  if (root) {
    return root.path === eq
      ? `the destination ${eq} is a library root`
      : `the destination ${eq} holds the library root ${root.path}`;
  }
  const photo = db.prepare(`SELECT path FROM photos WHERE status != 'removed' AND (path = ? OR substr(path, 1, length(?)) = ?) LIMIT 1`).get(eq, prefix, prefix) as { path: string } | undefined;
  if (photo) return `the destination ${eq} already holds indexed photos (e.g. ${photo.path})`;
  return null;
}

/**
 * markerUnsafeReason, plus what the index does not know yet: a destination inside a library root that already
 * holds files (not scanned yet, e.g. new photos) and no marker is not marked either, as the marker would hide them.
 */
export async function markerUnsafeReasonOnDisk(xfs: ExportFs, db: DB, dest: string): Promise<string | null> {
  const why = markerUnsafeReason(db, dest);
  if (why) return why;
  const d = path.resolve(dest);
  const root = (db.prepare(`SELECT path FROM roots`).all() as { path: string }[]).find((r) => d.startsWith(inside(r.path).prefix));
  if (!root) return null;
  if (await xfs.lstat(path.join(d, EXPORT_MARKER)).catch(() => null)) return null;   // already marked: kept as is
  const names = await xfs.readdir(d).catch(() => [] as string[]);
  if (!names.length) return null;
  return `the destination ${d} is inside the library root ${root.path} and already holds files (e.g. ${names[0]}) that are not from a Sift export`;
}

/** The plan warning / run summary line when the destination is not marked. */
export function unmarkedWarning(reason: string): string {
  return `no ${EXPORT_MARKER} marker is written: ${reason}, and a marker would hide them from the library scan. ` +
    `The exported files there will be indexed as duplicates on the next scan: export outside the library folders to avoid that`;
}

/**
 * The first folder holding a `.sift-export` marker among dir and its ancestors up to the file-system root (null:
 * none). `cache` (folder -> result) is shared across calls of one plan or run.
 */
export async function markedFolder(xfs: ExportFs, dir: string, cache = new Map<string, string | null>()): Promise<string | null> {
  const seen: string[] = [];
  let cur = path.resolve(dir);
  let res: string | null = null;
  for (;;) {
    if (cache.has(cur)) { res = cache.get(cur)!; break; }
    seen.push(cur);
    const st = await xfs.lstat(path.join(cur, EXPORT_MARKER)).catch(() => null);
    if (st) { res = cur; break; }
    const up = path.dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  for (const d of seen) cache.set(d, res);
  return res;
}

/** The refusal of a move whose target folder is under a marked folder. */
export function moveIntoMarkedMessage(target: string, marked: string): string {
  return `Cannot move photos into ${target}: ${marked} holds a ${EXPORT_MARKER} marker (an earlier copy, hard-link or symlink export), ` +
    `and the library scan skips marked folders, so the moved photos would turn up missing. ` +
    `Move them to a folder outside ${marked}, or undo that earlier export first (it removes its marker), or copy instead of moving`;
}
