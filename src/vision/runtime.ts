// The vision runtime: the selected model set, a worker pool running decode + inference, the index stage,
// and the background embedding job.
import path from 'node:path';
import { setMaxListeners } from 'node:events';
import type { Piscina } from 'piscina';
import type { DB } from '../store/db.ts';
import type { PhotoStage, StageItem } from '../library/stages.ts';
import type { JobHandle } from '../util/jobs.ts';
import { cores, createPool } from '../util/workers.ts';
import { DEFAULT_MODEL_SET, ModelError, Registry, type ResolvedSet } from './registry.ts';
import type { EmbedTask, EmbedTaskResult } from './embed.worker.ts';
import { getSetting, loadEmbeddings, pendingPhotos, recordEmbeddingError, saveEmbedding, saveTags, setSetting } from './store.ts';

export interface RuntimeOptions {
  db: DB;
  /** default models (resources/models) */
  modelsDir: string;
  /** user-supplied and downloaded models */
  userModelsDir: string;
  /** worker threads (default: cores) and intra-op threads per session (default: cores / threads) */
  threads?: number;
  intraThreads?: number;
}

export interface EmbedOutcome { done: number; failed: { photoId: number; error: string }[] }

export class VisionRuntime {
  readonly registry: Registry;
  private pool: Piscina | null = null;
  private readonly threads: number;
  private readonly intra: number;

  constructor(private opts: RuntimeOptions) {
    this.registry = new Registry(opts.modelsDir, opts.userModelsDir);
    this.threads = opts.threads ?? cores();
    this.intra = opts.intraThreads ?? Math.max(1, Math.floor(cores() / this.threads));
  }

  get db(): DB { return this.opts.db; }

  /** The model set new embeddings are made with (the user's choice, else the default). */
  selectedSetId(): string { return getSetting(this.db, 'model_set') ?? DEFAULT_MODEL_SET.id; }

  selectSet(id: string): void {
    this.registry.modelSet(id); // throws for an unknown set
    setSetting(this.db, 'model_set', id);
  }

  /** The selected set with its models checked (throws ModelError naming what is missing or broken). */
  resolved(): ResolvedSet { return this.registry.resolve(this.registry.modelSet(this.selectedSetId())); }

  private getPool(): Piscina {
    this.pool ??= createPool(new URL('./embed.worker.ts', import.meta.url), { threads: this.threads, idleTimeout: 20_000 });
    return this.pool;
  }

  /** Embeds photos (from pixels when given, else decoding the file) without saving anything. */
  async embedItems(items: StageItem[], set: ResolvedSet = this.resolved(), signal?: AbortSignal): Promise<EmbedTaskResult['results']> {
    const pool = this.getPool();
    if (signal) setMaxListeners(0, signal); // one abort listener per queued task
    const per = 1;
    const tasks: Promise<EmbedTaskResult>[] = [];
    for (let i = 0; i < items.length; i += per) {
      const task: EmbedTask = { set, items: items.slice(i, i + per), intraThreads: this.intra };
      tasks.push(pool.run(task, { signal }) as Promise<EmbedTaskResult>);
    }
    const outs = await Promise.allSettled(tasks);
    const results: EmbedTaskResult['results'] = [];
    for (const o of outs) {
      if (o.status === 'rejected') {
        if (signal?.aborted) continue;
        throw o.reason;
      }
      if (o.value.modelError) throw new ModelError(o.value.modelError);
      results.push(...o.value.results);
    }
    return results;
  }

  /** Embeds and stores a batch; per-photo failures are recorded, a model failure throws. */
  async processBatch(batch: StageItem[], signal?: AbortSignal): Promise<EmbedOutcome> {
    const set = this.resolved();
    const results = await this.embedItems(batch, set, signal);
    const failed: EmbedOutcome['failed'] = [];
    let done = 0;
    this.db.transaction(() => {
      for (const r of results) {
        if (r.vector) {
          saveEmbedding(this.db, r.photoId, set.id, r.vector);
          if (r.tags && set.tags) saveTags(this.db, r.photoId, set.id, set.tags.labels, r.tags);
          done++;
        } else {
          const error = r.error ?? 'unknown error';
          recordEmbeddingError(this.db, r.photoId, set.id, error);
          failed.push({ photoId: r.photoId, error });
        }
      }
    })();
    return { done, failed };
  }

  /** The PhotoStage plugged into library.index (after the thumbnail). */
  stage(): PhotoStage {
    return {
      id: 'embedding',
      pixelSize: 512,
      ready: () => {
        try { this.resolved(); return { ok: true }; } catch (e) { return { ok: false, reason: (e as Error).message }; }
      },
      pending: (db) => pendingPhotos(db, this.selectedSetId()),
      process: (batch, job) => this.processBatch(batch, job.signal),
    };
  }

  /** Embeds every pending photo of the selected set, in chunks, reporting progress on the job. */
  async embedPending(job: JobHandle, chunk = 16): Promise<EmbedOutcome & { total: number; cancelled: boolean }> {
    const set = this.resolved();
    const ids = pendingPhotos(this.db, set.id);
    const pathOf = this.db.prepare('SELECT path FROM photos WHERE id = ?').pluck();
    const out = { done: 0, failed: [] as EmbedOutcome['failed'], total: ids.length, cancelled: false };
    job.progress({ phase: 'embed', done: 0, total: ids.length }, true);
    for (let i = 0; i < ids.length; i += chunk) {
      if (job.signal.aborted) { out.cancelled = true; break; }
      const batch = ids.slice(i, i + chunk).map((id) => ({ photoId: id, path: pathOf.get(id) as string }));
      const r = await this.processBatch(batch, job.signal);
      out.done += r.done; out.failed.push(...r.failed);
      job.progress({ phase: 'embed', done: out.done + out.failed.length, total: ids.length, failed: out.failed.length, current: path.basename(batch[batch.length - 1].path) });
    }
    job.progress({ phase: 'embed', done: out.done + out.failed.length, total: ids.length, failed: out.failed.length }, true);
    if (out.done > 0) loadEmbeddings(this.db, set.id); // refresh the matrix cache here rather than on the next reader's path
    return out;
  }

  async close(): Promise<void> {
    const p = this.pool; this.pool = null;
    await p?.destroy();
  }
}
