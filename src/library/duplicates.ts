// Duplicate groups (photos with the same content hash) kept consistent: exactly one photo of a group that has
// any 'ok' photo is the original (duplicate_of NULL); every other 'ok' or 'missing' photo of the group points at
// it. Called for the hashes a change touched (a photo gone missing, back, changed, moved, replaced, removed), in
// the same transaction as that change.
import type { DB } from '../store/db.ts';

interface GroupRow { id: number; status: string; duplicate_of: number | null }

/**
 * Re-points the duplicate groups of `hashes`. The original stays the original while its file is there ('ok');
 * when it is missing or gone, the lowest-id 'ok' duplicate is promoted and the rest of the group (the missing
 * former original included) points at the promoted one. Groups with no 'ok' photo are left as they are.
 * Returns the number of rows changed.
 */
export function normalizeDuplicates(db: DB, hashes: Iterable<string | null | undefined>): number {
  const sel = db.prepare("SELECT id, status, duplicate_of FROM photos WHERE hash = ? AND status IN ('ok', 'missing') ORDER BY id");
  const set = db.prepare('UPDATE photos SET duplicate_of = ? WHERE id = ?');
  let changed = 0;
  const seen = new Set<string>();
  for (const h of hashes) {
    if (!h || seen.has(h)) continue;
    seen.add(h);
    const rows = sel.all(h) as GroupRow[];
    const ok = rows.filter((r) => r.status === 'ok');
    if (!ok.length) continue;
    const original = ok.find((r) => r.duplicate_of === null) ?? ok[0];
    for (const r of rows) {
      const want = r.id === original.id ? null : original.id;
      if (r.duplicate_of !== want) { set.run(want, r.id); changed++; }
    }
  }
  return changed;
}
