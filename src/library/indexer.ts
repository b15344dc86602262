// The library index: crawl roots, decide per file (unchanged / new / changed / moved / duplicate / missing),
// decode + hash + thumbnail in a piscina pool, write rows in batched transactions from this thread, feed
// per-photo stages (src/library/stages.ts).
//
// Crash safety: a photo's row is written only after its thumbnail is on disk (tmp + rename) and in the
// same transaction as the rest of its batch, so a kill -9 leaves finished photos complete and unfinished
// ones absent; the next scan sees the finished ones as unchanged (same size + mtime) and redoes the rest.
import fs from 'node:fs';
import path from 'node:path';
import { setMaxListeners } from 'node:events';
import type { DB } from '../store/db.ts';
import type { EngineContext } from '../api/context.ts';
import type { IndexSummary, StageSummary } from '../api/contract/library.ts';
import type { JobHandle } from '../util/jobs.ts';
import type { Piscina } from 'piscina';
import { createPool, cores } from '../util/workers.ts';
import type { ProcessResult, ProcessTask, ProcessOk } from '../media/process.ts';
import type { PhotoStage, StageItem } from './stages.ts';
import { crawl } from './crawl.ts';
import { addRoot, listRootRows, recordRootDevice, rootOffline, type RootRow } from './roots.ts';
import { normalizeDuplicates } from './duplicates.ts';
import { registerCacheUser, thumbnailGc } from './thumbs.ts';

export interface IndexOptions {
  /** Folders to scan (added as roots if new); default: every root. */
  roots?: string[];
  /** Run ctx.stages (default true). */
  stages?: boolean;
  maxPixels?: number;
  /** Worker threads (default: one per core). */
  threads?: number;
  /** Test hooks. */
  hooks?: { afterCrawl?(files: string[]): void | Promise<void> };
}

interface Row {
  id: number; path: string; size: number; mtime_ms: number; hash: string | null;
  status: string; error: string | null; warning: string | null; root_id: number | null;
}

const FLUSH_ROWS = 64;
const FLUSH_MS = 250;
const STAGE_BATCH = 16;

const yieldLoop = () => new Promise<void>((r) => setImmediate(r));

export async function indexLibrary(ctx: EngineContext, job: JobHandle, opts: IndexOptions = {}): Promise<IndexSummary> {
  const pools: { pool?: Piscina } = {};
  try {
    return await runIndex(ctx, job, opts, pools);
  } finally {
    await pools.pool?.destroy(); // never leave worker threads behind (they would keep a CLI alive)
  }
}

async function runIndex(ctx: EngineContext, job: JobHandle, opts: IndexOptions, pools: { pool?: Piscina }): Promise<IndexSummary> {
  const t0 = performance.now();
  const { db } = ctx;
  const signal = job.signal;
  setMaxListeners(0, signal); // the crawl, the pool and the stages all listen for cancel
  const summary: IndexSummary = {
    found: 0, added: 0, unchanged: 0, updated: 0, moved: 0, missing: 0, duplicates: 0, offline: 0,
    failed: [], warnings: [], stages: [], cancelled: false, seconds: 0,
  };

  registerCacheUser(ctx.thumbsDir, ctx.dbPath);

  // roots
  let roots: RootRow[];
  if (opts.roots?.length) roots = opts.roots.map((r) => addRoot(db, r));
  else roots = listRootRows(db);
  roots = roots.filter((r, i) => roots.findIndex((x) => x.id === r.id) === i);

  // Library folders that cannot be reached now (disconnected drive, unmounted share, empty mount point), scanned or not: their
  // photos are left exactly as they are (not missing, never matched as moved to an identical copy elsewhere).
  const offlineRoots = new Map<number, string>(); // root id -> path
  for (const r of listRootRows(db)) {
    const why = rootOffline(db, r);
    if (why === null) continue;
    offlineRoots.set(r.id, r.path);
    if (!roots.some((x) => x.id === r.id)) continue;
    const n = (db.prepare("SELECT COUNT(*) AS n FROM photos WHERE root_id = ? AND status != 'missing'").get(r.id) as { n: number }).n;
    summary.offline += n;
    summary.failed.push({ path: r.path, error: `${why}: its ${n} photo${n === 1 ? ' was' : 's were'} left as they are (offline; not marked missing, not moved)` });
  }
  const offlinePaths = [...offlineRoots.values()];
  const isOffline = (c: { path: string; root_id: number | null }) =>
    (c.root_id !== null && offlineRoots.has(c.root_id)) || offlinePaths.some((d) => under(c.path, d));

  // crawl
  job.progress({ phase: 'crawl', done: 0, total: 0 }, true);
  const found = new Map<string, number>(); // path -> root id
  const unreadableDirs: string[] = [...offlinePaths];
  for (const root of roots) {
    if (offlineRoots.has(root.id)) continue;
    recordRootDevice(db, root);
    const c = await crawl(root.path, { excludeDirs: [ctx.dataDir], signal });
    for (const u of c.unreadable) {
      summary.failed.push(u);
      unreadableDirs.push(u.path);
    }
    for (const f of c.files) if (!found.has(f)) found.set(f, root.id);
    job.progress({ phase: 'crawl', done: found.size, total: found.size });
  }
  summary.found = found.size;
  job.progress({ phase: 'crawl', done: found.size, total: found.size }, true);
  await opts.hooks?.afterCrawl?.([...found.keys()]);

  // classify by size + mtime against the index
  const rows = new Map<string, Row>();
  for (const r of db.prepare('SELECT id, path, size, mtime_ms, hash, status, error, warning, root_id FROM photos').all() as Row[]) rows.set(r.path, r);
  // more files than known rows: there is work for sure, so start the workers now (they load while we stat)
  const threads = opts.threads ?? cores();
  const startPool = () => {
    if (pools.pool) return pools.pool;
    const p = createPool(new URL('./index.worker.ts', import.meta.url), { threads });
    pools.pool = p;
    for (let w = 0; w < threads; w++) void p.run({ warm: true }).catch(() => undefined); // start every thread now
    return p;
  };
  if (found.size > rows.size) startPool();
  const tasks: { path: string; rootId: number; row?: Row }[] = [];
  const restore: { id: number; status: string; hash: string | null }[] = [];
  const fixRoot: { id: number; rootId: number }[] = [];
  const goneEarly: string[] = [];
  let i = 0;
  for (const [p, rootId] of found) {
    if (++i % 2000 === 0) await yieldLoop();
    let st: fs.Stats;
    try { st = fs.statSync(p); } catch (e) {
      if (p.includes('\uFFFD')) summary.failed.push({ path: p, error: 'the file name is not valid UTF-8, so it cannot be opened by name: rename the file' });
      else if ((e as NodeJS.ErrnoException).code === 'ENOENT') goneEarly.push(p);
      else summary.failed.push({ path: p, error: `cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      continue;
    }
    if (!st.isFile()) continue;
    const row = rows.get(p);
    if (row && row.size === st.size && row.mtime_ms === Math.floor(st.mtimeMs) && (row.status === 'ok' || row.status === 'failed' || row.status === 'missing')) {
      summary.unchanged++;
      if (row.status === 'missing') restore.push({ id: row.id, status: row.error ? 'failed' : 'ok', hash: row.hash });
      if (row.status === 'failed' || (row.status === 'missing' && row.error)) summary.failed.push({ path: p, error: row.error ?? 'failed' });
      if (row.warning && row.status !== 'failed') summary.warnings.push({ path: p, warning: row.warning });
      if (row.root_id !== rootId) fixRoot.push({ id: row.id, rootId });
      continue;
    }
    tasks.push({ path: p, rootId, row });
  }
  const now = Date.now();
  db.transaction(() => {
    const up = db.prepare('UPDATE photos SET status = ?, updated_at = ? WHERE id = ?');
    for (const r of restore) up.run(r.status, now, r.id);
    const ur = db.prepare('UPDATE photos SET root_id = ? WHERE id = ?');
    for (const r of fixRoot) ur.run(r.rootId, r.id);
    // a photo back from missing is a duplicate of the one promoted while it was away
    normalizeDuplicates(db, restore.map((r) => r.hash));
  })();

  // stages
  const stageRuns: { stage: PhotoStage; sum: StageSummary; broken: boolean }[] = [];
  if (opts.stages !== false) {
    for (const stage of ctx.stages) {
      const ready = stage.ready();
      const sum: StageSummary = { id: stage.id, done: 0, failed: 0, skipped: ready.ok ? null : ready.reason };
      summary.stages.push(sum);
      if (ready.ok) stageRuns.push({ stage, sum, broken: false });
    }
  }
  const pixelSize = Math.max(0, ...stageRuns.map((s) => s.stage.pixelSize));
  /** One batch through one stage; a stage that throws is stopped for the rest of the scan (per-photo failures are its own). */
  const runStage = async (s: (typeof stageRuns)[number], items: StageItem[]) => {
    try {
      const r = await s.stage.process(items, job);
      s.sum.done += r.done;
      s.sum.failed += r.failed.length;
    } catch (e) {
      s.broken = true;
      s.sum.skipped = `stopped: ${(e as Error)?.message ?? e}`;
    }
  };
  const runStages = async (items: StageItem[], withPixels: boolean) => {
    for (const s of stageRuns) {
      if (s.broken || (withPixels && s.stage.pixelSize <= 0)) continue;
      await runStage(s, items);
    }
  };

  // decode, hash, thumbnail in the pool
  const movedIds = new Set<number>();
  /** A known photo whose file is gone now (so a new file with its hash is that photo, moved): not found by this
   *  crawl, not already matched, under a reachable, readable folder, and either missing already or not there. */
  const isGone = (c: { id: number; path: string; status: string; root_id: number | null }): boolean => {
    if (found.has(c.path) || movedIds.has(c.id) || isOffline(c)) return false;
    if (unreadableDirs.some((d) => under(c.path, d))) return false;
    if (c.status === 'missing') return true;
    try { fs.statSync(c.path); return false; } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === 'ENOENT' || code === 'ENOTDIR';
    }
  };
  const touched = new Set<string>(); // hashes whose duplicate groups changed
  let displaced = 0;
  const apply = makeApplier(db, { movedIds, summary, isGone, touched, onDisplaced: () => { displaced++; } });
  let pendingResults: { task: (typeof tasks)[number]; res: ProcessResult }[] = [];
  let stageQueue: StageItem[] = [];
  let lastFlush = performance.now();
  let done = 0;
  let failedCount = summary.failed.length;
  const flush = async () => {
    if (!pendingResults.length) return;
    const batch = pendingResults;
    pendingResults = [];
    lastFlush = performance.now();
    const ids = db.transaction(() => {
      const out = batch.map((b) => apply(b.task.path, b.task.rootId, b.res));
      normalizeDuplicates(db, touched);
      touched.clear();
      return out;
    })();
    if (stageRuns.length && pixelSize > 0) {
      batch.forEach((b, k) => {
        const id = ids[k];
        if (id !== null && b.res.ok && b.res.pixels) {
          const px = b.res.pixels;
          stageQueue.push({ photoId: id, path: b.task.path, pixels: { data: px.data, width: px.width, height: px.height, channels: 3 } });
        }
      });
      if (stageQueue.length >= STAGE_BATCH) {
        const q = stageQueue;
        stageQueue = [];
        await runStages(q, true);
      }
    }
  };

  for (const p of goneEarly) {
    pendingResults.push({ task: { path: p, rootId: found.get(p)!, row: rows.get(p) }, res: { ok: false, error: 'the file disappeared during the scan (deleted or moved)', gone: true } });
  }

  if (tasks.length) {
    const pool = startPool();
    const limit = threads * 3;
    let next = 0;
    let inflight = 0;
    let chain: Promise<void> = Promise.resolve();
    try {
      job.progress({ phase: 'index', done: 0, total: tasks.length, failed: failedCount }, true);
      await new Promise<void>((resolve, reject) => {
        // a worker that cannot start (or dies) must fail the scan, not leave it waiting forever
        pool.on('error', (e: unknown) => reject(new Error(`index worker failed: ${(e as Error)?.message ?? e}`)));
        const pump = () => {
          while (inflight < limit && next < tasks.length && !signal.aborted) {
            const task = tasks[next++];
            inflight++;
            const t: ProcessTask = { path: task.path, thumbsDir: ctx.thumbsDir, pixelSize, maxPixels: opts.maxPixels };
            (pool.run(t) as Promise<ProcessResult>).then(
              (res) => res,
              (e: unknown): ProcessResult => ({ ok: false, error: `could not process the file: ${(e as Error)?.message ?? e}` }),
            ).then((res) => {
              // results are handled one at a time, in order of arrival; awaiting stages gives back-pressure
              chain = chain.then(async () => {
                pendingResults.push({ task, res });
                done++;
                if (!res.ok) failedCount++;
                job.progress({ phase: 'index', done, total: tasks.length, failed: failedCount, current: task.path });
                if (pendingResults.length >= FLUSH_ROWS || performance.now() - lastFlush > FLUSH_MS) await flush();
              }).then(() => {
                inflight--;
                if ((next >= tasks.length || signal.aborted) && inflight === 0) resolve();
                else pump();
              }, reject);
            });
          }
          if ((next >= tasks.length || signal.aborted) && inflight === 0) resolve();
        };
        pump();
      });
      await chain;
    } finally {
      pools.pool = undefined;
      await pool.destroy();
    }
  }
  await flush();
  if (stageQueue.length) { const q = stageQueue; stageQueue = []; await runStages(q, true); }
  job.progress({ phase: 'index', done, total: tasks.length, failed: failedCount }, true);
  summary.cancelled = signal.aborted;

  // missing: indexed under a scanned root, not found now (only after a complete crawl + scan)
  if (!summary.cancelled) {
    const scanned = roots.filter((r) => !unreadableDirs.includes(r.path));
    const markMissing = db.prepare("UPDATE photos SET status = 'missing', updated_at = ? WHERE id = ?");
    const gone: Row[] = [];
    for (const r of rows.values()) {
      if (r.status === 'missing' || found.has(r.path) || movedIds.has(r.id)) continue;
      if (!scanned.some((root) => under(r.path, root.path))) continue;
      if (unreadableDirs.some((d) => under(r.path, d)) || isOffline(r)) continue;
      gone.push(r);
    }
    db.transaction(() => {
      for (const r of gone) markMissing.run(Date.now(), r.id);
      // duplicates of a photo gone missing: one of them becomes the original
      normalizeDuplicates(db, gone.map((r) => r.hash));
    })();
    summary.missing = gone.length + displaced;
    // thumbnails no photo uses any more (removed folders, changed files: recorded by triggers); when files were
    // decoded (a scan that costs far more than a listing), the whole cache: temp files and orphans of killed scans
    await thumbnailGc(db, ctx.thumbsDir, { dbPath: ctx.dbPath, sweep: tasks.length > 0 });
  } else {
    summary.missing = displaced;
    if (tasks.length) await thumbnailGc(db, ctx.thumbsDir, { tempOnly: true });
  }

  // stages over everything that still needs them (photos indexed earlier, stages without pixels)
  for (const s of stageRuns) {
    if (signal.aborted || s.broken) break;
    const ids = s.stage.pending(db);
    const getPath = db.prepare('SELECT path FROM photos WHERE id = ?');
    let k = 0;
    for (let j = 0; j < ids.length && !signal.aborted && !s.broken; j += STAGE_BATCH) {
      const items = ids.slice(j, j + STAGE_BATCH).map((id) => ({ photoId: id, path: (getPath.get(id) as { path: string } | undefined)?.path ?? '' }));
      await runStage(s, items);
      k += items.length;
      job.progress({ phase: `stage:${s.stage.id}`, done: k, total: ids.length, failed: s.sum.failed });
    }
  }
  summary.cancelled = signal.aborted;
  summary.seconds = (performance.now() - t0) / 1000;
  return summary;
}

const under = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);

interface ApplierState {
  movedIds: Set<number>;
  summary: IndexSummary;
  /** Whether a known photo's file is gone now (its id may be taken by a new file with its hash). */
  isGone(c: { id: number; path: string; status: string; root_id: number | null }): boolean;
  /** Hashes whose duplicate groups this result changed (normalised at the end of the batch). */
  touched: Set<string>;
  onDisplaced(): void;
}

/** Where the row of a photo whose path was taken over by another photo goes: a path that no crawled file can
 *  ever have (the extension `.missing-<id>` is not a photo extension), so the row stays unique and 'missing'. */
export const displacedPath = (p: string, id: number): string => `${p}.missing-${id}`;

/** Applies one worker result inside a transaction; returns the photo id (null when nothing was recorded). */
function makeApplier(db: DB, st: ApplierState) {
  const { movedIds, summary, isGone, touched } = st;
  const byPath = db.prepare('SELECT id, hash, status FROM photos WHERE path = ?');
  const byHash = db.prepare('SELECT id, path, status, duplicate_of, root_id FROM photos WHERE hash = ? ORDER BY id');
  const insert = db.prepare(`INSERT INTO photos (root_id, path, size, mtime_ms, hash, format, width, height, orientation, taken_at,
      gps_lat, gps_lon, camera_make, camera_model, thumb, status, error, warning, duplicate_of, added_at, updated_at)
    VALUES (@root_id, @path, @size, @mtime_ms, @hash, @format, @width, @height, @orientation, @taken_at,
      @gps_lat, @gps_lon, @camera_make, @camera_model, @thumb, @status, @error, @warning, @duplicate_of, @now, @now)`);
  const update = db.prepare(`UPDATE photos SET root_id = @root_id, path = @path, size = @size, mtime_ms = @mtime_ms, hash = @hash,
      format = @format, width = @width, height = @height, orientation = @orientation, taken_at = @taken_at, gps_lat = @gps_lat,
      gps_lon = @gps_lon, camera_make = @camera_make, camera_model = @camera_model, thumb = @thumb, status = @status,
      error = @error, warning = @warning, duplicate_of = @duplicate_of, updated_at = @now WHERE id = @id`);
  const setMissing = db.prepare("UPDATE photos SET status = 'missing', updated_at = ? WHERE id = ?");
  const displace = db.prepare("UPDATE photos SET path = ?, status = 'missing', updated_at = ? WHERE id = ?");

  const okFields = (r: ProcessOk) => ({
    size: r.size, mtime_ms: r.mtimeMs, hash: r.hash, format: r.format, width: r.width, height: r.height,
    orientation: r.meta.orientation, taken_at: r.meta.takenAt, gps_lat: r.meta.gps?.lat ?? null, gps_lon: r.meta.gps?.lon ?? null,
    camera_make: r.meta.make, camera_model: r.meta.model, thumb: r.thumb, status: 'ok', error: null, warning: r.warning,
  });
  type Cand = { id: number; path: string; status: string; duplicate_of: number | null; root_id: number | null };
  const touch = (h: string | null | undefined) => { if (h) touched.add(h); };

  return (p: string, rootId: number, res: ProcessResult): number | null => {
    const now = Date.now();
    const existing = byPath.get(p) as { id: number; hash: string | null; status: string } | undefined;
    if (existing) touch(existing.hash);
    if (!res.ok) {
      summary.failed.push({ path: p, error: res.error });
      if (res.gone) {
        if (existing) setMissing.run(now, existing.id);
        return null;
      }
      const row = {
        root_id: rootId, path: p, size: res.size ?? 0, mtime_ms: res.mtimeMs ?? 0, hash: res.hash ?? null, format: res.format ?? null,
        width: null, height: null, orientation: null, taken_at: null, gps_lat: null, gps_lon: null, camera_make: null, camera_model: null,
        thumb: null, status: 'failed', error: res.error, warning: null, duplicate_of: null, now,
      };
      if (existing) { update.run({ ...row, id: existing.id }); return existing.id; }
      return Number(insert.run(row).lastInsertRowid);
    }
    if (res.warning) summary.warnings.push({ path: p, warning: res.warning });
    touch(res.hash);
    const same = (byHash.all(res.hash) as Cand[]).filter((c) => c.path !== p);
    // a known photo whose old path is gone = moved/renamed: keep its id (labels, embeddings survive). This comes
    // first even when the path is known: a photo moved onto the path of another (missing or overwritten) photo
    // is the moved photo, not a new version of the one that was there.
    const moved = existing?.hash === res.hash ? undefined : same.find((c) => isGone(c));
    if (moved) {
      if (existing) {
        // the photo that was at this path is gone (overwritten or deleted): it stays, missing, under a free path
        displace.run(displacedPath(p, existing.id), now, existing.id);
        if (existing.status !== 'missing') st.onDisplaced(); // counted as missing now (it was not before)
      }
      const original = same.find((c) => c.id !== moved.id && c.status === 'ok' && c.duplicate_of === null) ?? null;
      update.run({ ...okFields(res), root_id: rootId, path: p, duplicate_of: original?.id ?? null, now, id: moved.id });
      movedIds.add(moved.id);
      summary.moved++;
      return moved.id;
    }
    if (existing) {
      // changed file at a known path (or a retry of a failed / pending one)
      const original = same.find((c) => c.status === 'ok' && c.duplicate_of === null) ?? null;
      update.run({ ...okFields(res), root_id: rootId, path: p, duplicate_of: original?.id ?? null, now, id: existing.id });
      if (existing.hash === res.hash && existing.status === 'ok') summary.unchanged++;
      else if (existing.status === 'pending') summary.added++;
      else summary.updated++;
      return existing.id;
    }
    const original = same.find((c) => c.status === 'ok' && c.duplicate_of === null) ?? same.find((c) => c.status === 'ok') ?? null;
    const id = Number(insert.run({ ...okFields(res), root_id: rootId, path: p, duplicate_of: original ? (original.duplicate_of ?? original.id) : null, now }).lastInsertRowid);
    summary.added++;
    if (original) summary.duplicates++;
    return id;
  };
}
