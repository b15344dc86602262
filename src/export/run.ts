// Execution, resume and undo of an export, driven by the journal (export_items).
//
// Per item: resolve target -> journal 'started' (the target was free) -> create it without ever overwriting
// (COPYFILE_EXCL / link / symlink / exclusive create) -> verify (hash, inode or link target) -> journal 'done'.
// A move is link + unlink on one file system, and copy -> fsync -> verify -> delete across file systems; the
// photo's path in the index changes in the same transaction that marks the move done.
// After a kill, 'started' items are repaired from what is on disk (recoverItem), so resume and undo are exact.
import { setMaxListeners } from 'node:events';
import path from 'node:path';
import type { DB } from '../store/db.ts';
import { describeFsError, errCode, hashFile, nodeFs, sameHash, type ExportFs } from './fsops.ts';
import { exportFs } from './copy.ts';
import { EXPORT_MARKER } from '../library/crawl.ts';
import { Listing, resolveUnit, isIdentical, type Op, type Want } from './resolve.ts';
import { markedFolder, markerUnsafeReasonOnDisk, moveIntoMarkedMessage, unmarkedWarning } from './marker.ts';
import type { Checkpoints } from '../store/checkpoint.ts';

export interface ItemRow {
  id: number; export_id: number; grp: number; unit: number; seq: number; photo_id: number | null;
  kind: 'photo' | 'sidecar' | 'keywords'; op: Op; src: string | null; dir: string; want: string; dst: string | null;
  size: number; expect_hash: string | null; dst_hash: string | null; content: string | null;
  state: string; result: string | null; error: string | null;
}
export interface ExportRow {
  id: number; created_at: number; finished_at: number | null; dest: string; mode: string; template: string;
  options: string; state: string; pid: number | null; summary: string | null; error: string | null;
}

export interface RunEnv {
  db: DB;
  fs?: ExportFs;
  signal?: AbortSignal;
  progress?: (p: { phase: string; done: number; total: number; failed?: number; current?: string }, force?: boolean) => void;
  /** Units of work run at the same time (different photos). Default: 8; with the worker copy path, a whole batch. */
  concurrency?: number;
  /** Placements resolved and journaled per transaction. Default: 64; with the worker copy path, 256. */
  batchSize?: number;
  /** WAL checkpoints off the engine's thread while the export runs (see store/checkpoint.ts). */
  checkpoints?: Checkpoints;
}

// Summaries have the API's shapes (one definition, in the contract).
export type { ExportRunSummary as RunSummary, ExportUndoSummary as UndoSummary } from '../api/contract/export.ts';
import type { ExportRunSummary as RunSummary, ExportUndoSummary as UndoSummary } from '../api/contract/export.ts';

export class ExportError extends Error {
  constructor(message: string, readonly code: 'not_found' | 'conflict' | 'bad_input' = 'conflict') { super(message); }
}

class Abort extends Error {}

function pidAlive(pid: number | null): boolean {
  if (!pid) return false;
  try { process.kill(pid, 0); return true; } catch (e) { return errCode(e) === 'EPERM'; }
}

/** Exports currently run by this process (a 'running' row not in here and whose pid is dead was killed). */
const activeByDb = new WeakMap<DB, Set<number>>();
function activeSet(db: DB): Set<number> {
  let s = activeByDb.get(db);
  if (!s) activeByDb.set(db, (s = new Set()));
  return s;
}

export function effectiveState(db: DB, row: ExportRow): string {
  if ((row.state === 'running' || row.state === 'undoing') && !activeSet(db).has(row.id) && !(row.pid !== process.pid && pidAlive(row.pid))) {
    return row.state === 'running' ? 'interrupted' : 'undo-interrupted';
  }
  return row.state;
}

export function getExport(db: DB, id: number): ExportRow {
  const row = db.prepare(`SELECT * FROM exports WHERE id = ?`).get(id) as ExportRow | undefined;
  if (!row) throw new ExportError(`No export with id ${id}`, 'not_found');
  return row;
}

class Journal {
  private setState;
  private setDst;
  private setPhotoPath;
  private addDir;
  constructor(private db: DB, private committed: () => void = () => {}) {
    this.setState = db.prepare(`UPDATE export_items SET state = ?, result = COALESCE(?, result), dst_hash = COALESCE(?, dst_hash), error = ? WHERE id = ?`);
    this.setDst = db.prepare(`UPDATE export_items SET dst = ?, state = ?, result = ? WHERE id = ?`);
    this.setPhotoPath = db.prepare(`UPDATE photos SET path = ?, updated_at = ? WHERE id = ? AND path = ?`);
    this.addDir = db.prepare(`INSERT OR IGNORE INTO export_dirs (export_id, path) VALUES (?, ?)`);
  }
  state(it: ItemRow, state: string, o: { result?: string | null; hash?: string | null; error?: string | null } = {}): void {
    this.setState.run(state, o.result ?? null, o.hash ?? null, o.error ?? null, it.id);
    it.state = state;
    if (o.result) it.result = o.result;
    if (o.hash) it.dst_hash = o.hash;
    it.error = o.error ?? null;
  }
  dst(it: ItemRow, dst: string, state: string, result: string | null): void {
    this.setDst.run(dst, state, result, it.id);
    it.dst = dst; it.state = state; it.result = result;
  }
  /** Marks a move done and points the index at the new place, atomically. */
  moved(it: ItemRow, from: string, to: string, hash: string | null, state: string, result: string): void {
    this.db.transaction(() => {
      this.state(it, state, { result, hash });
      if (it.kind === 'photo' && it.photo_id !== null) this.setPhotoPath.run(to, Date.now(), it.photo_id, from);
    })();
    this.committed();
  }
  dir(exportId: number, dir: string): void { this.addDir.run(exportId, dir); }
  private queue: (() => void)[] = [];
  private lastFlush = performance.now();
  /** Marks the item done in memory now and in the database with the next batch (see flush). */
  later(it: ItemRow, write: () => void): void {
    it.state = 'done';
    this.queue.push(write);
    if (this.queue.length >= 256 || performance.now() - this.lastFlush > 200) this.flush();
  }
  flush(): void {
    const q = this.queue;
    this.queue = [];
    this.lastFlush = performance.now();
    if (q.length) { this.db.transaction(() => { for (const w of q) w(); })(); this.committed(); }
  }
  tx<T>(fn: () => T): T { const r = this.db.transaction(fn)(); this.committed(); return r; }
}

function wantOf(it: ItemRow): Want {
  return { nameFor: (n) => n, op: it.op, src: it.src, expectHash: it.expect_hash };
}

/** Creates the missing folders of dir (journaled first, so undo can remove them when empty). */
async function ensureDir(xfs: ExportFs, j: Journal, exportId: number, dir: string, known: Set<string>): Promise<void> {
  if (known.has(dir)) return;
  const missing: string[] = [];
  let cur = dir;
  for (;;) {
    const st = await xfs.lstat(cur);
    if (st) {
      if (!st.isDirectory()) throw Object.assign(new Error(`${cur} exists and is not a folder`), { code: 'ENOTDIR' });
      break;
    }
    missing.push(cur);
    const up = path.dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  for (const d of missing.reverse()) {
    j.dir(exportId, d);
    try { await xfs.mkdir(d); } catch (e) { if (errCode(e) !== 'EEXIST') throw e; }
  }
  known.add(dir);
}

async function removeIfExists(xfs: ExportFs, p: string): Promise<void> {
  try { await xfs.unlink(p); } catch (e) { if (errCode(e) !== 'ENOENT') throw e; }
}

/**
 * Moves a file without ever overwriting: link+unlink on one file system; else copy -> fsync -> verify -> delete.
 * expectHash: what the content must be (verified before the source is deleted).
 */
async function moveFile(xfs: ExportFs, from: string, to: string, expectHash: string | null): Promise<{ hash: string | null; crossDevice: boolean }> {
  let linked = false;
  try {
    await xfs.link(from, to);
    linked = true;
    const a = await xfs.lstat(from), b = await xfs.lstat(to);
    if (!a || !b || a.ino !== b.ino || a.dev !== b.dev) throw new Error(`move verification failed: ${to} is not ${from}`);
    await xfs.fsyncDir(path.dirname(to));
    await xfs.unlink(from);
    await xfs.fsyncDir(path.dirname(from)).catch(() => {});
    return { hash: null, crossDevice: false };
  } catch (e) {
    if (linked && await unlinkAfterFailedMove(xfs, from, to, e) === 'moved') return { hash: null, crossDevice: false };
    const c = errCode(e);
    if (c !== 'EXDEV' && c !== 'EPERM' && c !== 'ENOTSUP' && c !== 'EOPNOTSUPP' && c !== 'EMLINK') throw e;
    if (c === 'EPERM' && await xfs.lstat(to)) throw e;
  }
  await xfs.copyFileExcl(from, to);
  try {
    await xfs.fsyncFile(to);
    await xfs.fsyncDir(path.dirname(to));
    const h = await hashFile(xfs, to);
    const want = expectHash ?? await hashFile(xfs, from);
    if (!sameHash(h, want) && !sameHash(h, await hashFile(xfs, from))) throw new Error(`verification failed: the copy of ${from} differs from it`);
    await xfs.unlink(from);
    await xfs.fsyncDir(path.dirname(from)).catch(() => {});
    return { hash: h, crossDevice: true };
  } catch (e) {
    // the source is intact: remove our copy (if the source is really still there)
    if (await xfs.lstat(from)) await removeIfExists(xfs, to).catch(() => {});
    throw e;
  }
}

/**
 * The link of a move was created but the move could not finish (the source could not be deleted, or the check
 * failed): while the source is still there (same file), the new link is removed, so the photo stays at its source
 * only and nothing is left half-moved; throws with a clear message. ('moved' when the source is gone after all.)
 */
async function unlinkAfterFailedMove(xfs: ExportFs, from: string, to: string, e: unknown): Promise<'moved'> {
  const why = describeFsError(e, `deleting ${from}`);
  const a = await xfs.lstat(from).catch(() => null), b = await xfs.lstat(to).catch(() => null);
  if (a && b && a.ino === b.ino && a.dev === b.dev) {
    try { await xfs.unlink(to); } catch (e2) {
      throw new Error(`the source could not be deleted after linking it to ${to} (${why}), and that link could not be removed either (${describeFsError(e2, `removing ${to}`)}): the photo is at both places`, { cause: e2 });
    }
    throw new Error(`not moved: the source could not be deleted after linking it to ${to} (${why}); the link was removed, the photo stays at ${from}`, { cause: e });
  }
  if (!a && b && errCode(e) !== undefined) return 'moved';   // the source was deleted after all (a later step failed)
  throw e;
}

/** Creates one target (never overwriting) and verifies it. Returns the verified hash (null for links). */
async function createTarget(xfs: ExportFs, it: ItemRow, dst: string, signal?: AbortSignal): Promise<string | null> {
  switch (it.op) {
    case 'copy': {
      if (xfs.copyVerified) return await xfs.copyVerified(it.src!, dst, it.expect_hash, signal);
      await xfs.copyFileExcl(it.src!, dst);
      try {
        const h = await hashFile(xfs, dst);
        if (sameHash(h, it.expect_hash)) return h;
        // the source may have changed since it was indexed: compare with the source as it is now
        if (sameHash(h, await hashFile(xfs, it.src!))) return h;
        throw new Error(`verification failed: the copy differs from ${it.src}`);
      } catch (e) { await removeIfExists(xfs, dst).catch(() => {}); throw e; }
    }
    case 'write': {
      try {
        await xfs.writeFileExcl(dst, it.content ?? '');
        const h = await hashFile(xfs, dst);
        if (!sameHash(h, it.expect_hash)) throw new Error(`verification failed: ${dst} does not hold what was written`);
        return h;
      } catch (e) { if (errCode(e) !== 'EEXIST') await removeIfExists(xfs, dst).catch(() => {}); throw e; }
    }
    case 'hardlink': {
      await xfs.link(it.src!, dst);
      const a = await xfs.lstat(it.src!), b = await xfs.lstat(dst);
      if (!a || !b || a.ino !== b.ino) { await removeIfExists(xfs, dst); throw new Error(`verification failed: ${dst} is not a link to ${it.src}`); }
      return null;
    }
    case 'symlink': {
      await xfs.symlink(it.src!, dst);
      if ((await xfs.readlink(dst)) !== it.src) { await removeIfExists(xfs, dst); throw new Error(`verification failed: ${dst} does not point to ${it.src}`); }
      return null;
    }
    case 'move': return (await moveFile(xfs, it.src!, dst, it.expect_hash)).hash;
  }
}

/**
 * Whether `file` can only be our own interrupted copy of `source` (a copy writes front to back, so what a kill
 * leaves is a prefix of the source). Anything else at the target was not written by us and is never deleted.
 */
async function isPartialCopyOf(xfs: ExportFs, file: string, source: string | Buffer | null): Promise<boolean> {
  if (source === null) return false;
  try {
    const a = await xfs.readFile(file);
    const b = typeof source === 'string' ? await xfs.readFile(source) : source;
    return a.length <= b.length && a.equals(b.subarray(0, a.length));
  } catch { return false; }
}

/** Brings a 'started' item (interrupted by a kill) to 'done' or back to 'pending' from what is on disk. */
async function recoverItem(xfs: ExportFs, j: Journal, it: ItemRow): Promise<void> {
  const dst = it.dst!;
  const d = await xfs.lstat(dst);
  if (it.op === 'move') {
    const s = await xfs.lstat(it.src!);
    if (s && d) {
      if (s.ino === d.ino && s.dev === d.dev) { await xfs.unlink(it.src!); j.moved(it, it.src!, dst, null, 'done', 'moved'); return; }
      // a cross-device copy was in progress: finish it if complete, else drop the partial copy
      const hd = await hashFile(xfs, dst);
      if (sameHash(hd, await hashFile(xfs, it.src!))) {
        await xfs.fsyncFile(dst); await xfs.fsyncDir(path.dirname(dst));
        await xfs.unlink(it.src!);
        j.moved(it, it.src!, dst, hd, 'done', 'moved');
      } else if (await isPartialCopyOf(xfs, dst, it.src!)) { await xfs.unlink(dst); j.state(it, 'pending'); }
      else j.state(it, 'failed', { error: `${dst} was taken by another file during the export` });
      return;
    }
    if (!s && d) { j.moved(it, it.src!, dst, null, 'done', 'moved'); return; }
    if (s && !d) { j.state(it, 'pending'); return; }
    j.state(it, 'failed', { error: `${it.src} and ${dst} are both missing (removed outside Sift?)` });
    return;
  }
  if (!d) { j.state(it, 'pending'); return; }
  if (await isIdentical(xfs, dst, wantOf(it)) || (it.op === 'copy' && it.src && sameHash(await hashFile(xfs, dst), await hashFile(xfs, it.src).catch(() => null)))) {
    j.state(it, 'done', { result: 'created', hash: it.op === 'copy' || it.op === 'write' ? await hashFile(xfs, dst) : null });
    return;
  }
  if ((it.op === 'copy' || it.op === 'write') && await isPartialCopyOf(xfs, dst, it.op === 'copy' ? it.src : Buffer.from(it.content ?? ''))) {
    await xfs.unlink(dst); j.state(it, 'pending'); return;   // our partial file
  }
  j.state(it, 'failed', { error: `${dst} was taken by another file during the export` });
}

function summarize(db: DB, exportId: number, t0: number, error: string | null, warnings: string[] = []): RunSummary {
  const row = getExport(db, exportId);
  const rows = db.prepare(`SELECT state, result, op, COUNT(*) n, SUM(size) bytes FROM export_items WHERE export_id = ? GROUP BY state, result, op`).all(exportId) as { state: string; result: string | null; op: string; n: number; bytes: number }[];
  let created = 0, moved = 0, identical = 0, pending = 0, bytes = 0;
  for (const r of rows) {
    if (r.state === 'done' && r.op === 'move') moved += r.n;
    else if (r.state === 'done') { created += r.n; if (r.op === 'copy' || r.op === 'write') bytes += r.bytes; }
    if (r.state === 'skipped' && r.result === 'identical') identical += r.n;
    if (r.state === 'pending' || r.state === 'started') pending += r.n;
  }
  const renamed = (db.prepare(`SELECT COUNT(*) n FROM export_items WHERE export_id = ? AND kind = 'photo' AND state = 'done' AND result = 'renamed'`).get(exportId) as { n: number }).n;
  const failedRows = db.prepare(`SELECT src, dst, error FROM export_items WHERE export_id = ? AND state = 'failed' ORDER BY seq LIMIT 1000`).all(exportId) as { src: string | null; dst: string | null; error: string }[];
  const failedTotal = (db.prepare(`SELECT COUNT(*) n FROM export_items WHERE export_id = ? AND state = 'failed'`).get(exportId) as { n: number }).n;
  return { exportId, state: effectiveState(db, row), created, moved, identical, renamed, failed: failedRows, failedTotal, pending, bytesWritten: bytes, error, warnings, seconds: (performance.now() - t0) / 1000 };
}

/** Runs (or resumes) an export from its journal. */
export async function runExport(env: RunEnv, exportId: number): Promise<RunSummary> {
  const t0 = performance.now();
  const { db } = env;
  const xfs = env.fs ?? exportFs;
  const row = getExport(db, exportId);
  const st = effectiveState(db, row);
  if (!['planned', 'interrupted', 'cancelled', 'failed', 'done'].includes(st)) {
    throw new ExportError(`Export ${exportId} cannot be run: it is ${st}`);
  }
  if (st === 'done' && !(db.prepare(`SELECT 1 FROM export_items WHERE export_id = ? AND state IN ('pending','started','failed') LIMIT 1`).get(exportId))) {
    return summarize(db, exportId, t0, null);
  }
  if (row.mode === 'move') {
    // checked again at every run: a marker may have been written since the plan (by a copy export)
    const cache = new Map<string, string | null>();
    const dirs = (db.prepare(`SELECT DISTINCT dir FROM export_items WHERE export_id = ? AND op = 'move' AND state IN ('pending','started','failed')`).all(exportId) as { dir: string }[]).map((r) => r.dir);
    for (const d of new Set([row.dest, ...dirs])) {
      // (a read-only check on the real disk, before the run starts: not through the injected primitives)
      const marked = await markedFolder(nodeFs, d, cache);
      if (marked) throw new ExportError(moveIntoMarkedMessage(d, marked));
    }
  }
  const warnings: string[] = [];
  const j = new Journal(db, () => env.checkpoints?.maybe());
  // the journal's commits do not checkpoint the WAL in this thread while the export runs (a checkpoint's fsync
  // waits behind the export's own write-back): a worker thread does it
  const release = env.checkpoints?.hold();
  activeSet(db).add(exportId);
  let fatal: string | null = null;
  try {
    db.prepare(`UPDATE exports SET state = 'running', pid = ?, error = NULL WHERE id = ?`).run(process.pid, exportId);
    const items = db.prepare(`SELECT * FROM export_items WHERE export_id = ? ORDER BY grp, unit, seq`).all(exportId) as ItemRow[];
    for (const it of items.filter((i) => i.state === 'started')) await recoverItem(xfs, j, it);
    // failed items of an earlier run (disk full, permission) are retried on resume
    for (const it of items.filter((i) => i.state === 'failed')) j.state(it, 'pending');

    const groups = new Map<number, ItemRow[][]>();   // grp -> its units (placements), in order
    {
      const byUnit = new Map<number, ItemRow[]>();
      for (const it of items) {
        let u = byUnit.get(it.unit);
        if (!u) {
          byUnit.set(it.unit, (u = []));
          let g = groups.get(it.grp);
          if (!g) groups.set(it.grp, (g = []));
          g.push(u);
        }
        u.push(it);
      }
    }
    const todo = [...groups.values()].filter((g) => g.some((u) => u.some((i) => i.state === 'pending')));
    const listing = new Listing(xfs);
    // names this export already holds are reserved (they are on disk, or about to be)
    for (const it of items) if (it.dst && (it.state === 'done' || it.state === 'started' || it.state === 'pending')) listing.reserve(path.dirname(it.dst), path.basename(it.dst), it.dst_hash ?? it.expect_hash);
    const knownDirs = new Set<string>();
    // not for a move: the moved photos are the library itself, and a marked folder inside a library root would
    // not be scanned (they would turn up missing)
    // nor where it would hide indexed photos (the destination is, or holds, a library root or indexed photos)
    if (todo.length && row.mode !== 'move') {
      const why = await markerUnsafeReasonOnDisk(xfs, db, row.dest);
      if (why) warnings.push(unmarkedWarning(why));
      else fatal = await writeMarker(xfs, j, row, knownDirs);
    }
    let done = 0, failedCount = 0;
    const total = todo.length;
    env.progress?.({ phase: 'export', done: 0, total }, true);

    // aborted on cancel or on a fatal error: the copies not yet started in the workers are skipped (they stay
    // pending for a resume) instead of each running into the same full disk
    const halt = new AbortController();
    setMaxListeners(0, halt.signal);   // one listener per copy task in flight (see CopyWorkers.flush)
    const onCancel = () => halt.abort();
    if (env.signal?.aborted) halt.abort(); else env.signal?.addEventListener('abort', onCancel, { once: true });
    const failUnit = (pend: ItemRow[], e: unknown, what: string) => {
      const c = errCode(e);
      const msg = describeFsError(e, what);
      failedCount++;
      j.tx(() => pend.forEach((i) => j.state(i, 'failed', { error: msg })));
      if (c === 'ENOSPC' || c === 'EDQUOT' || c === 'EROFS') { fatal = msg; halt.abort(); throw new Abort(); }
    };

    /**
     * Resolves the targets of a placement's pending items and queues their 'started' journal writes in
     * `intents` (committed together, before any of them is created).
     */
    // one at a time: with two batches in flight, an EEXIST retry of batch k resolves names while batch k+1 is being
    // resolved, and both await between listing.slot() and listing.reserve(); unserialised, both could pick the
    // same free name (the loser would fail spuriously: sidecars and written XMPs are not retried on EEXIST)
    let resolving: Promise<unknown> = Promise.resolve();
    const prepareUnit = (u: ItemRow[], intents: (() => void)[], reread: boolean): Promise<void> => {
      const p = resolving.then(() => prepareUnitNow(u, intents, reread));
      resolving = p.catch(() => undefined);
      return p;
    };
    const prepareUnitNow = async (u: ItemRow[], intents: (() => void)[], reread: boolean) => {
      const photo = u.find((i) => i.kind === 'photo')!;
      const dir = photo.dir;
      const pend = u.filter((i) => i.state === 'pending');
      if (!pend.length) return;
      try { await ensureDir(xfs, j, exportId, dir, knownDirs); } catch (e) { failUnit(pend, e, `creating the folder ${dir}`); return; }
      if (!(photo.state === 'pending' && u.every((i) => i.state === 'pending' || i.state === 'skipped'))) {
        intents.push(() => pend.forEach((i) => j.state(i, 'started')));
        return;
      }
      if (reread) listing.forget(dir);
      for (const i of pend) if (i.dst) listing.release(dir, path.basename(i.dst));
      const wants = pend.map((i) => ({ ...wantOf(i), nameFor: nameMapper(photo.want, i.want) }));
      // the planned names first (so the export does what the plan showed), else resolve again from the wanted name
      let res: Awaited<ReturnType<typeof resolveUnit>> | null = null;
      if (pend.every((i) => i.dst && path.dirname(i.dst) === dir)) {
        const slots: { name: string; state: 'free' | 'identical' }[] = [];
        for (let k = 0; k < pend.length; k++) {
          const sl = await listing.slot(dir, path.basename(pend[k].dst!), wants[k]);
          if (sl.state === 'different') break;
          slots.push({ name: sl.state === 'identical' ? sl.actual : path.basename(pend[k].dst!), state: sl.state });
        }
        if (slots.length === pend.length) res = { photoName: path.basename(photo.dst!), n: photo.result === 'renamed' ? 1 : 0, slots };
      }
      res ??= await resolveUnit(listing, dir, photo.want, wants);
      const r = res;
      pend.forEach((i, k) => {
        const slot = r.slots[k];
        if (slot.state === 'free') listing.reserve(dir, slot.name, i.expect_hash);
      });
      intents.push(() => pend.forEach((i, k) => {
        const slot = r.slots[k];
        const dst = path.join(dir, slot.name);
        if (slot.state === 'identical') j.dst(i, dst, 'skipped', 'identical');
        else j.dst(i, dst, 'started', r.n > 0 ? 'renamed' : null);
      }));
    };

    const execUnit = async (u: ItemRow[]): Promise<'cancelled' | void> => {
      const photo = u.find((i) => i.kind === 'photo')!;
      for (let attempt = 0; ; attempt++) {
        let retry = false;
        for (const it of u) {
          if (it.state !== 'started') continue;
          if (it.kind !== 'photo' && photo.state === 'failed') { j.state(it, 'failed', { error: 'not exported because its photo failed' }); continue; }
          const r = await runItem(it);
          // cancelled before its photo was created: the placement stays 'started' (back to pending below)
          if (r === 'cancelled') return 'cancelled';
          if (r === 'retry') { retry = true; break; }
        }
        if (!retry) return;
        // a file appeared under our name since the folder was read: read it again and pick another name
        j.tx(() => u.forEach((i) => { if (i.state === 'started') j.state(i, 'pending'); }));
        if (attempt >= 5) { failUnit(u.filter((i) => i.state === 'pending'), new Error('the target names keep being taken'), `exporting ${photo.src}`); return; }
        const intents: (() => void)[] = [];
        await prepareUnit(u, intents, true);
        j.tx(() => intents.forEach((f) => f()));
      }
    };

    const runItem = async (it: ItemRow): Promise<'ok' | 'retry' | 'cancelled'> => {
      const dst = it.dst!;
      try {
        // only a photo's own copy can be cancelled (before it starts): once it exists, its sidecars follow it
        const h = await createTarget(xfs, it, dst, it.kind === 'photo' ? halt.signal : undefined);
        // 'done' is journaled in batches: a kill before the batch is written leaves 'started' items whose
        // verified target exists, which recoverItem turns into 'done'
        if (it.op === 'move') j.later(it, () => j.moved(it, it.src!, dst, h, 'done', it.result === 'renamed' ? 'renamed' : 'moved'));
        else j.later(it, () => j.state(it, 'done', { result: it.result ?? 'created', hash: h }));
        listing.noteCreated(it.dir, path.basename(dst));
        return 'ok';
      } catch (e) {
        if (errCode(e) === 'EEXIST' && it.kind === 'photo') return 'retry';
        if (errCode(e) === 'ECANCELED' && halt.signal.aborted) return 'cancelled';
        const lost = e as { workerLost?: boolean; createdByUs?: boolean };
        if (lost.workerLost && lost.createdByUs !== false) {
          // the copy worker stopped mid-task after creating this file: what it did to it is unknown, so it is
          // repaired from what is on disk, as after a kill (a verified copy counts as done, a partial one is removed).
          // A file the worker never created (not reached, or its exclusive copy failed: EEXIST because another file
          // appeared there) is never repaired: it may be someone else's; the item fails and is retried on resume.
          try { await recoverItem(xfs, j, it); } catch { /* left 'started': the next resume or undo repairs it */ }
          if (it.state === 'done') { listing.noteCreated(it.dir, path.basename(dst)); return 'ok'; }
          if (it.state !== 'pending') return 'ok';
        }
        failUnit([it], e, `${it.op === 'write' ? 'writing' : it.op === 'move' ? 'moving' : 'exporting'} ${it.src ?? ''} to ${dst}`.replace('  ', ' '));
        return 'ok';
      }
    };

    // batches of placements: phase A resolves a batch and commits its intents in ONE transaction; phase B creates
    // its files, several groups at a time (the placements of one photo in order). The two overlap: while the files
    // of batch k are created (in the copy workers), batch k+1 is resolved and journaled, so the workers always have
    // the next files queued. Intents are still committed before their files are created (the batch is only handed
    // to phase B after its transaction).
    // A copy export with the worker fast path has every group of a batch in flight at once (the copies requested in
    // one turn of the event loop go to the workers together); other modes use the thread pool, 8 groups at a time.
    const workerCopies = !!xfs.copyVerified && row.mode === 'copy';
    const BATCH = Math.max(1, env.batchSize ?? (workerCopies ? 256 : 64));
    const conc = Math.max(1, env.concurrency ?? (workerCopies ? BATCH : 8));
    let gi = 0;
    const stopped = () => !!fatal || !!env.signal?.aborted;
    const prepareBatch = async (): Promise<ItemRow[][][] | null> => {
      if (gi >= todo.length || stopped()) return null;
      const batch: ItemRow[][][] = [];
      for (let units = 0; gi < todo.length && units < BATCH; gi++) { batch.push(todo[gi]); units += todo[gi].length; }
      const intents: (() => void)[] = [];
      for (const g of batch) for (const u of g) await prepareUnit(u, intents, false);
      j.tx(() => intents.forEach((f) => f()));
      return batch;
    };
    const execBatch = async (batch: ItemRow[][][]): Promise<void> => {
      let next = 0;
      const settled = await Promise.allSettled(Array.from({ length: Math.min(conc, batch.length) }, async () => {
        while (next < batch.length && !stopped()) {
          const g = batch[next++];
          // a worker never rejects early: Promise.all must only settle when every in-flight file is finished
          let skipped = false;
          try { for (const u of g) if (await execUnit(u) === 'cancelled') { skipped = true; break; } } catch (e) { if (e instanceof Abort) return; throw e; }
          if (skipped) continue;
          done++;
          env.progress?.({ phase: 'export', done, total, failed: failedCount, current: g[0][0].src ?? undefined });
        }
      }));
      for (const r of settled) if (r.status === 'rejected') throw r.reason;
    };
    try {
      // up to two batches in flight: the next one is handed to the workers as soon as it is journaled
      const inflight = new Set<Promise<void>>();
      let failure: { e: unknown } | null = null;
      const launch = (b: ItemRow[][][]) => {
        const p: Promise<void> = execBatch(b).catch((e) => { failure ??= { e }; }).finally(() => { inflight.delete(p); });
        inflight.add(p);
      };
      let cur = await prepareBatch();
      while (cur && !stopped() && !failure) {
        launch(cur);
        // let this batch's copies go out to the workers first (they are sent on the next turn of the event loop)
        await new Promise((r) => setImmediate(r));
        if (inflight.size >= 2) await Promise.race(inflight);
        cur = await prepareBatch().catch((e) => { if (!(e instanceof Abort)) failure ??= { e }; return null; });
      }
      // every file in flight is finished (and journaled) before the export stops, whatever happened
      while (inflight.size) await Promise.all([...inflight]);
      if (failure) throw (failure as { e: unknown }).e;
    } catch (e) { if (!(e instanceof Abort)) throw e; } finally { env.signal?.removeEventListener('abort', onCancel); }
    // placements journaled 'started' but never attempted (stopped by a fatal error): back to pending
    j.flush();
    j.tx(() => { for (const it of items) if (it.state === 'started') j.state(it, 'pending'); });
    j.flush();
    env.progress?.({ phase: 'export', done, total, failed: failedCount }, true);
    const state = fatal ? 'failed' : env.signal?.aborted ? 'cancelled' : 'done';
    db.prepare(`UPDATE exports SET state = ?, finished_at = ?, error = ? WHERE id = ?`).run(state, Date.now(), fatal, exportId);
  } catch (e) {
    j.flush();
    db.prepare(`UPDATE exports SET state = 'failed', finished_at = ?, error = ? WHERE id = ?`).run(Date.now(), String((e as Error)?.message ?? e), exportId);
    throw e;
  } finally {
    activeSet(db).delete(exportId);
    release?.();
  }
  return summarize(db, exportId, t0, fatal, warnings);
}

/**
 * Marks the destination as an export folder with a small `.sift-export` file (the library scan skips folders
 * holding one, so exporting copies or hard links inside a library root does not index them as duplicates). Written once, exclusively (an
 * existing marker is kept as is), before the first file. A full, over-quota or read-only disk stops the export
 * (returns the message); other failures only leave the folder unmarked.
 */
async function writeMarker(xfs: ExportFs, j: Journal, row: ExportRow, knownDirs: Set<string>): Promise<string | null> {
  const file = path.join(row.dest, EXPORT_MARKER);
  const content = JSON.stringify({
    sift: 'export', exportId: row.id, createdAt: new Date(row.created_at).toISOString(), mode: row.mode,
    about: 'Sift exported photos into this folder; Sift does not index folders holding this file.',
    undo: `sift export --undo ${row.id}   (or "Undo last export" in the app); undo removes this file with the export`,
  }, null, 2) + '\n';
  try {
    await ensureDir(xfs, j, row.id, row.dest, knownDirs);
    await xfs.writeFileExcl(file, content, { sync: false });
  } catch (e) {
    const c = errCode(e);
    if (c === 'ENOSPC' || c === 'EDQUOT' || c === 'EROFS') return describeFsError(e, `writing ${file}`);
  }
  return null;
}

/**
 * Removes the destination's marker after an undo, only when it is one Sift wrote (our JSON, naming an export into
 * this folder) and no other export still has files in this folder.
 */
async function removeMarker(xfs: ExportFs, db: DB, row: ExportRow): Promise<void> {
  const file = path.join(row.dest, EXPORT_MARKER);
  let m: { sift?: unknown; exportId?: unknown };
  try { m = JSON.parse((await xfs.readFile(file)).toString('utf8')); } catch { return; }
  if (m?.sift !== 'export' || typeof m.exportId !== 'number') return;
  const owner = db.prepare(`SELECT dest FROM exports WHERE id = ?`).get(m.exportId) as { dest: string } | undefined;
  if (owner?.dest !== row.dest) return;
  const live = db.prepare(`SELECT 1 FROM export_items i JOIN exports e ON e.id = i.export_id
    WHERE e.dest = ? AND e.id != ? AND i.state IN ('done', 'started', 'undoing') LIMIT 1`).get(row.dest, row.id);
  if (live) return;
  await removeIfExists(xfs, file);
}

/** Maps the photo's resolved name to a sidecar's name, from the names wanted in the plan. */
function nameMapper(photoWant: string, itemWant: string): (photoName: string) => string {
  if (itemWant === photoWant) return (n) => n;
  if (itemWant.toLowerCase().startsWith(photoWant.toLowerCase() + '.')) { const suffix = itemWant.slice(photoWant.length); return (n) => n + suffix; }
  const pext = path.extname(photoWant);
  const pstem = photoWant.slice(0, photoWant.length - pext.length);
  const suffix = itemWant.slice(pstem.length);
  return (n) => n.slice(0, n.length - path.extname(n).length) + suffix;
}

/** Undoes an export (also a killed or partly undone one): removes what it created, puts moved files back. */
export async function undoExport(env: RunEnv, exportId: number): Promise<UndoSummary> {
  const t0 = performance.now();
  const { db } = env;
  const xfs = env.fs ?? exportFs;
  const row = getExport(db, exportId);
  const st = effectiveState(db, row);
  if (st === 'running' || st === 'undoing') throw new ExportError(`Export ${exportId} is ${st} right now; cancel it first`);
  if (st === 'undone') throw new ExportError(`Export ${exportId} was already undone`);
  const j = new Journal(db);
  activeSet(db).add(exportId);
  db.prepare(`UPDATE exports SET state = 'undoing', pid = ? WHERE id = ?`).run(process.pid, exportId);
  const kept: { path: string; reason: string }[] = [];
  const failed: { path: string; error: string }[] = [];
  let removed = 0, movedBack = 0;
  try {
    const items = (db.prepare(`SELECT * FROM export_items WHERE export_id = ? AND state IN ('done','started','undoing') ORDER BY grp DESC, unit DESC, seq DESC`).all(exportId) as ItemRow[]);
    let n = 0;
    for (const it of items) {
      if (env.signal?.aborted) break;
      env.progress?.({ phase: 'undo', done: n++, total: items.length, current: it.dst ?? undefined });
      try {
        const r = await undoItem(xfs, j, it);
        if (r.kind === 'removed') removed++;
        else if (r.kind === 'movedBack') movedBack++;
        else if (r.kind === 'kept') kept.push({ path: it.dst!, reason: r.reason });
      } catch (e) {
        failed.push({ path: it.dst ?? '', error: describeFsError(e, `undoing ${it.dst}`) });
      }
    }
    if (!env.signal?.aborted && !failed.length && !kept.length) await removeMarker(xfs, db, row).catch(() => {});
    // folders this export created, deepest first, only when empty; with them, the folders that exports undone
    // earlier created but had to keep because this export had files in them: a kept folder at or above a folder
    // of this export, that no other export still in use has items in (a running one may be filling it)
    const within = (dir: string, top: string) => dir === top || dir.startsWith(top.endsWith(path.sep) ? top : top + path.sep);
    const mine = (db.prepare(`SELECT DISTINCT dir FROM export_items WHERE export_id = ?`).all(exportId) as { dir: string }[]).map((r) => r.dir);
    let leftByUndone = (db.prepare(`SELECT d.export_id id, d.path FROM export_dirs d JOIN exports e ON e.id = d.export_id
      WHERE d.export_id <> ? AND e.state = 'undone'`).all(exportId) as { id: number; path: string }[])
      .filter((d) => mine.some((m) => within(m, d.path)));
    if (leftByUndone.length) {
      const inUse = (db.prepare(`SELECT DISTINCT i.dir FROM export_items i JOIN exports e ON e.id = i.export_id
        WHERE i.export_id <> ? AND e.state NOT IN ('undone', 'planned')`).all(exportId) as { dir: string }[]).map((r) => r.dir);
      leftByUndone = leftByUndone.filter((d) => !inUse.some((u) => within(u, d.path)));
    }
    const dirs = [...(db.prepare(`SELECT export_id id, path FROM export_dirs WHERE export_id = ?`).all(exportId) as { id: number; path: string }[]), ...leftByUndone]
      .sort((a, b) => b.path.length - a.path.length);
    const forget = db.prepare(`DELETE FROM export_dirs WHERE export_id = ? AND path = ?`);
    for (const d of dirs) {
      try { await xfs.rmdir(d.path); forget.run(d.id, d.path); } catch (e) {
        if (errCode(e) === 'ENOENT') forget.run(d.id, d.path);
      }
    }
    const state = env.signal?.aborted || failed.length ? 'undo-incomplete' : 'undone';
    db.prepare(`UPDATE exports SET state = ?, finished_at = ? WHERE id = ?`).run(state === 'undone' ? 'undone' : 'failed', Date.now(), exportId);
    env.progress?.({ phase: 'undo', done: items.length, total: items.length }, true);
    return { exportId, state, removed, movedBack, kept, failed, seconds: (performance.now() - t0) / 1000 };
  } finally {
    activeSet(db).delete(exportId);
  }
}

type UndoResult = { kind: 'removed' } | { kind: 'movedBack' } | { kind: 'gone' } | { kind: 'kept'; reason: string };

async function undoItem(xfs: ExportFs, j: Journal, it: ItemRow): Promise<UndoResult> {
  const dst = it.dst!;
  const d = await xfs.lstat(dst);
  if (it.op === 'move') {
    const src = it.src!;
    const s = await xfs.lstat(src);
    if (!s && d) {
      j.state(it, 'undoing');
      await ensureParent(xfs, src);
      await moveFile(xfs, dst, src, it.dst_hash ?? it.expect_hash);
      j.moved(it, dst, src, null, 'undone', it.result ?? 'moved');
      return { kind: 'movedBack' };
    }
    if (s && d) {
      if (s.ino === d.ino && s.dev === d.dev) { await xfs.unlink(dst); j.moved(it, dst, src, null, 'undone', it.result ?? 'moved'); return { kind: 'movedBack' }; }
      const hs = await hashFile(xfs, src), hd = await hashFile(xfs, dst);
      if (sameHash(hs, hd)) { await xfs.fsyncFile(src); await xfs.unlink(dst); j.moved(it, dst, src, null, 'undone', it.result ?? 'moved'); return { kind: 'movedBack' }; }
      if (it.state === 'started' && await isPartialCopyOf(xfs, dst, src)) { await xfs.unlink(dst); j.state(it, 'undone'); return { kind: 'gone' }; } // our partial copy; the source never left
      if (it.state === 'undoing' && await isPartialCopyOf(xfs, src, dst)) {                                        // our partial copy back
        await xfs.unlink(src);
        await moveFile(xfs, dst, src, it.dst_hash ?? it.expect_hash);
        j.moved(it, dst, src, null, 'undone', it.result ?? 'moved');
        return { kind: 'movedBack' };
      }
      j.state(it, 'kept', { error: `another file now exists at ${src}` });
      return { kind: 'kept', reason: `not moved back: another file now exists at ${src}` };
    }
    if (s && !d) { j.moved(it, dst, src, null, 'undone', it.result ?? 'moved'); return { kind: 'gone' }; }
    j.state(it, 'kept', { error: 'missing at both places' });
    return { kind: 'kept', reason: `missing at both ${src} and ${dst} (removed outside Sift?)` };
  }
  if (!d) { j.state(it, 'undone'); return { kind: 'gone' }; }
  if (it.state === 'started') {
    // interrupted while creating: the target was free when the item started, so what is there is ours
    if (await isIdentical(xfs, dst, wantOf(it)) || ((it.op === 'copy' || it.op === 'write') && await isPartialCopyOf(xfs, dst, it.op === 'copy' ? it.src : Buffer.from(it.content ?? '')))) {
      await xfs.unlink(dst); j.state(it, 'undone'); return { kind: 'removed' };
    }
    j.state(it, 'kept', { error: 'another file took the name' });
    return { kind: 'kept', reason: 'another file took the name' };
  }
  let unchanged = false;
  if (it.op === 'copy' || it.op === 'write') unchanged = !d.isSymbolicLink() && sameHash(await hashFile(xfs, dst), it.dst_hash ?? it.expect_hash);
  else if (it.op === 'hardlink') {
    const s = await xfs.lstat(it.src!);
    unchanged = !!s && s.ino === d.ino && s.dev === d.dev; // the original still exists: removing the link loses nothing
  } else if (it.op === 'symlink') unchanged = d.isSymbolicLink() && (await xfs.readlink(dst)) === it.src;
  if (!unchanged) {
    j.state(it, 'kept', { error: 'changed since the export' });
    return { kind: 'kept', reason: 'changed since the export (or its original is gone): left in place' };
  }
  await xfs.unlink(dst);
  j.state(it, 'undone');
  return { kind: 'removed' };
}

async function ensureParent(xfs: ExportFs, file: string): Promise<void> {
  const dirs: string[] = [];
  let cur = path.dirname(file);
  while (!(await xfs.lstat(cur))) { dirs.push(cur); const up = path.dirname(cur); if (up === cur) break; cur = up; }
  for (const d of dirs.reverse()) await xfs.mkdir(d).catch((e) => { if (errCode(e) !== 'EEXIST') throw e; });
}

export function listExports(db: DB): { row: ExportRow; counts: Record<string, number> }[] {
  const rows = db.prepare(`SELECT * FROM exports ORDER BY id DESC`).all() as ExportRow[];
  const cnt = db.prepare(`SELECT state, COUNT(*) n FROM export_items WHERE export_id = ? GROUP BY state`);
  return rows.map((row) => ({ row, counts: Object.fromEntries((cnt.all(row.id) as { state: string; n: number }[]).map((r) => [r.state, r.n])) }));
}
