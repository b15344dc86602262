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
import { addRoot, listRootRows, type RootRow } from './roots.ts';

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
    found: 0, added: 0, unchanged: 0, updated: 0, moved: 0, missing: 0, duplicates: 0,
    failed: [], warnings: [], stages: [], cancelled: false, seconds: 0,
  };

  // roots
  let roots: RootRow[];
  if (opts.roots?.length) roots = opts.roots.map((r) => addRoot(db, r));
  else roots = listRootRows(db);
  roots = roots.filter((r, i) => roots.findIndex((x) => x.id === r.id) === i);

  // crawl
  job.progress({ phase: 'crawl', done: 0, total: 0 }, true);
  const found = new Map<string, number>(); // path -> root id
  const unreadableDirs: string[] = [];
  for (const root of roots) {
    if (!fs.existsSync(root.path)) {
      summary.failed.push({ path: root.path, error: 'library folder not found (disconnected drive?); its photos were left as they were' });
      unreadableDirs.push(root.path);
      continue;
    }
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
  const restore: { id: number; status: string }[] = [];
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
      if (row.status === 'missing') restore.push({ id: row.id, status: row.error ? 'failed' : 'ok' });
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
  const apply = makeApplier(db, found, movedIds, summary);
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
    const ids = db.transaction(() => batch.map((b) => apply(b.task.path, b.task.rootId, b.res)))();
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
  if (tasks.length) await removeStaleTemp(ctx.thumbsDir);
  if (stageQueue.length) { const q = stageQueue; stageQueue = []; await runStages(q, true); }
  job.progress({ phase: 'index', done, total: tasks.length, failed: failedCount }, true);
  summary.cancelled = signal.aborted;

  // missing: indexed under a scanned root, not found now (only after a complete crawl + scan)
  if (!summary.cancelled) {
    const scanned = roots.filter((r) => !unreadableDirs.includes(r.path));
    const under = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
    const markMissing = db.prepare("UPDATE photos SET status = 'missing', updated_at = ? WHERE id = ?");
    const gone: number[] = [];
    for (const r of rows.values()) {
      if (r.status === 'missing' || found.has(r.path) || movedIds.has(r.id)) continue;
      if (!scanned.some((root) => under(r.path, root.path))) continue;
      if (unreadableDirs.some((d) => under(r.path, d))) continue;
      gone.push(r.id);
    }
    db.transaction(() => { for (const id of gone) markMissing.run(Date.now(), id); })();
    summary.missing = gone.length;
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

/** Applies one worker result inside a transaction; returns the photo id (null when nothing was recorded). */
function makeApplier(db: DB, found: Map<string, number>, movedIds: Set<number>, summary: IndexSummary) {
  const byPath = db.prepare('SELECT id, hash, status FROM photos WHERE path = ?');
  const byHash = db.prepare('SELECT id, path, status, duplicate_of FROM photos WHERE hash = ? ORDER BY id');
  const insert = db.prepare(`INSERT INTO photos (root_id, path, size, mtime_ms, hash, format, width, height, orientation, taken_at,
      gps_lat, gps_lon, camera_make, camera_model, thumb, status, error, warning, duplicate_of, added_at, updated_at)
    VALUES (@root_id, @path, @size, @mtime_ms, @hash, @format, @width, @height, @orientation, @taken_at,
      @gps_lat, @gps_lon, @camera_make, @camera_model, @thumb, @status, @error, @warning, @duplicate_of, @now, @now)`);
  const update = db.prepare(`UPDATE photos SET root_id = @root_id, path = @path, size = @size, mtime_ms = @mtime_ms, hash = @hash,
      format = @format, width = @width, height = @height, orientation = @orientation, taken_at = @taken_at, gps_lat = @gps_lat,
      gps_lon = @gps_lon, camera_make = @camera_make, camera_model = @camera_model, thumb = @thumb, status = @status,
      error = @error, warning = @warning, duplicate_of = @duplicate_of, updated_at = @now WHERE id = @id`);
  const setMissing = db.prepare("UPDATE photos SET status = 'missing', updated_at = ? WHERE id = ?");

  const okFields = (r: ProcessOk) => ({
    size: r.size, mtime_ms: r.mtimeMs, hash: r.hash, format: r.format, width: r.width, height: r.height,
    orientation: r.meta.orientation, taken_at: r.meta.takenAt, gps_lat: r.meta.gps?.lat ?? null, gps_lon: r.meta.gps?.lon ?? null,
    camera_make: r.meta.make, camera_model: r.meta.model, thumb: r.thumb, status: 'ok', error: null, warning: r.warning,
  });

  return (p: string, rootId: number, res: ProcessResult): number | null => {
    const now = Date.now();
    const existing = byPath.get(p) as { id: number; hash: string | null; status: string } | undefined;
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
    const same = (byHash.all(res.hash) as { id: number; path: string; status: string; duplicate_of: number | null }[]).filter((c) => c.path !== p);
    if (existing) {
      // changed file at a known path (or a retry of a failed / pending one)
      const original = same.find((c) => c.status === 'ok' && c.duplicate_of === null && c.id < existing.id) ?? null;
      update.run({ ...okFields(res), root_id: rootId, path: p, duplicate_of: original?.id ?? null, now, id: existing.id });
      if (existing.hash === res.hash && existing.status === 'ok') summary.unchanged++;
      else if (existing.status === 'pending') summary.added++;
      else summary.updated++;
      return existing.id;
    }
    // a known photo whose old path is gone = moved/renamed: keep its id (labels, embeddings survive)
    const moved = same.find((c) => !found.has(c.path) && !movedIds.has(c.id) && (c.status === 'missing' || !fs.existsSync(c.path)));
    if (moved) {
      const original = same.find((c) => c.id !== moved.id && c.status === 'ok' && c.duplicate_of === null && c.id < moved.id) ?? null;
      update.run({ ...okFields(res), root_id: rootId, path: p, duplicate_of: original?.id ?? null, now, id: moved.id });
      movedIds.add(moved.id);
      summary.moved++;
      return moved.id;
    }
    const original = same.find((c) => c.status === 'ok' && c.duplicate_of === null) ?? same.find((c) => c.status === 'ok') ?? null;
    const id = Number(insert.run({ ...okFields(res), root_id: rootId, path: p, duplicate_of: original ? (original.duplicate_of ?? original.id) : null, now }).lastInsertRowid);
    summary.added++;
    if (original) summary.duplicates++;
    return id;
  };
}

/** Temp files of thumbnails left by a killed scan (never used: final names only appear by rename). Only old
 *  ones, so that another process indexing into the same cache right now is not disturbed. */
async function removeStaleTemp(thumbsDir: string, maxAgeMs = 10 * 60_000): Promise<void> {
  const now = Date.now();
  let dirs: string[];
  try { dirs = await fs.promises.readdir(thumbsDir); } catch { return; }
  for (const d of dirs) {
    let names: string[];
    try { names = await fs.promises.readdir(path.join(thumbsDir, d)); } catch { continue; }
    for (const n of names) {
      if (!n.endsWith('.tmp')) continue;
      const f = path.join(thumbsDir, d, n);
      try { if (now - (await fs.promises.stat(f)).mtimeMs > maxAgeMs) await fs.promises.rm(f, { force: true }); } catch { /* gone */ }
    }
  }
}
