// The copy fast path of the export: exclusive copy + read back + xxh3 verification of each file, done as ONE
// synchronous sequence inside worker threads (copy.worker.mjs), many files per task. The engine's thread only
// journals: it never waits on a file read, and a file costs one message instead of several thread-pool round trips
// (copyFile, open, fstat, read, close).
//
// The sequence itself is copyVerifySync in copy.worker.mjs (plain JavaScript: it starts in milliseconds); runExport calls it through
// ExportFs.copyVerified, so the journal rules are unchanged: the item is journaled 'started' before the worker
// creates the file, and 'done' after the verified hash came back. Faults can be injected into the worker
// (WorkerFault: an errno on the copy or the read-back, or a corrupted copy) to test this exact code path.
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { cores } from '../util/workers.ts';
import { nodeFs, type ExportFs } from './fsops.ts';

export interface CopyJob { src: string; dst: string; expectHash: string | null }
export type CopyResult = { hash: string } | { error: { code?: string; message: string } };

/** A fault injected in the worker, for tests: matched against the job's source or target path (substring). */
export interface WorkerFault {
  /** copy: the exclusive copy fails with `code` (nothing created); read: the read-back fails after the copy was
   *  created; corrupt: the copy gets a byte appended before it is read back (verification must catch it);
   *  crash: the whole task throws right after this file was copied (as if the thread died). */
  at: 'copy' | 'read' | 'corrupt' | 'crash';
  match: string;
  code?: string;
}

export interface CopyTask {
  jobs: CopyJob[];
  faults?: WorkerFault[];
  /** one Int32 per job, written by the worker: 0 = not reached, 1 = copying (a file at the target is the worker's),
   *  2 = finished after creating the target, 3 = the copy failed and created nothing (see copy.worker.mjs) */
  progress?: SharedArrayBuffer;
  /** one Int32 per job, written by the engine: 1 = cancelled (the worker skips the job if it has not started it) */
  cancel?: SharedArrayBuffer;
}

/** The rejection of a copy skipped because its export was cancelled before the copy started. */
function cancelled(job: CopyJob): Error {
  return Object.assign(new Error(`cancelled before ${job.dst} was created`), { code: 'ECANCELED' });
}

export function resultError(r: { error: { code?: string; message: string } }): Error {
  return Object.assign(new Error(r.error.message), r.error.code ? { code: r.error.code } : {});
}

/**
 * A small pool of copy workers with a micro-batcher: the copies requested in one turn of the event loop are sent
 * as a few tasks (about two per thread, so a thread has the next batch while the engine journals the last one).
 */
const IDLE_MS = 60_000;

export class CopyWorkers {
  private pool: Piscina | null = null;
  private queue: { job: CopyJob; signal?: AbortSignal; resolve: (h: string) => void; reject: (e: Error) => void }[] = [];
  private scheduled = false;
  private closed = false;
  private inFlight = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  readonly threads: number;
  constructor(private opts: { threads?: number; faults?: WorkerFault[]; maxPerTask?: number; idleMs?: number } = {}) {
    // 4 threads by default, like libuv's thread pool that a plain fs.copyFile uses: on a small machine shared with
    // other work, the threads of a process get its share of the CPU (more than the cores: each does whole files)
    this.threads = Math.max(1, opts.threads ?? Number(process.env.SIFT_EXPORT_THREADS || Math.max(4, Math.min(8, cores()))));
  }

  private get(): Piscina {
    if (this.closed) throw new Error('the export copy workers are closed');
    if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = null; }
    if (!this.pool) {
      // not createPool: that passes this process's flags on, and under tsx they load tsx into every thread, which
      // this plain-JavaScript worker does not need (it would cost ~0.4 s of CPU per thread at every start)
      this.pool = new Piscina({
        filename: fileURLToPath(new URL('./copy.worker.mjs', import.meta.url)),
        minThreads: this.threads, maxThreads: this.threads, idleTimeout: IDLE_MS, execArgv: [],
      });
      this.pool.on('error', () => undefined);
    }
    return this.pool;
  }

  /** Starts every thread now (module loading takes a while), so that the first copies do not wait for it. */
  warm(): void {
    if (this.pool || this.closed) return;
    const p = this.get();
    for (let i = 0; i < this.threads; i++) {
      this.inFlight++;
      void p.run({ jobs: [] } satisfies CopyTask).catch(() => undefined).finally(() => this.taskEnded());
    }
  }

  /** `signal`: once aborted, the copy is skipped if the worker has not started it (rejects with ECANCELED). */
  copyVerified(job: CopyJob, signal?: AbortSignal): Promise<string> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) { reject(cancelled(job)); return; }
      this.queue.push({ job, signal, resolve, reject });
      if (!this.scheduled) { this.scheduled = true; setImmediate(() => this.flush()); }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const q = this.queue;
    this.queue = [];
    if (!q.length) return;
    let pool: Piscina;
    try { pool = this.get(); } catch (e) { for (const x of q) x.reject(e as Error); return; }
    const per = Math.max(1, Math.min(this.opts.maxPerTask ?? 32, Math.ceil(q.length / (this.threads * 2))));
    for (let i = 0; i < q.length; i += per) {
      const chunk = q.slice(i, i + per);
      const progress = new SharedArrayBuffer(4 * chunk.length);
      // a cancel reaches the worker between two files: the jobs it has not started are skipped
      const cancel = new SharedArrayBuffer(4 * chunk.length);
      const stops = new Int32Array(cancel);
      const bySignal = new Map<AbortSignal, number[]>();
      chunk.forEach((c, k) => { if (c.signal) bySignal.set(c.signal, [...(bySignal.get(c.signal) ?? []), k]); });
      const unlisten: (() => void)[] = [];
      for (const [signal, ks] of bySignal) {   // one listener per export and task
        const on = () => { for (const k of ks) Atomics.store(stops, k, 1); };
        if (signal.aborted) { on(); continue; }
        signal.addEventListener('abort', on, { once: true });
        unlisten.push(() => signal.removeEventListener('abort', on));
      }
      const task: CopyTask = { jobs: chunk.map((c) => c.job), faults: this.opts.faults, progress, cancel };
      this.inFlight++;
      (pool.run(task) as Promise<CopyResult[]>).finally(() => { unlisten.forEach((f) => f()); this.taskEnded(); }).then((results) => {
        chunk.forEach((c, k) => { const r = results[k]; if ('hash' in r) c.resolve(r.hash); else c.reject(resultError(r)); });
      }, (e: unknown) => {
        // the task failed as a whole (the thread died, or the pool was closed): the shared progress says which
        // targets this worker created (createdByUs: their state on disk is repaired by the engine); the others were
        // never created by it: whatever is at their target belongs to someone else and must not be touched
        const flags = new Int32Array(progress);
        chunk.forEach((c, k) => {
          const f = Atomics.load(flags, k);
          // not reached, and its export was cancelled meanwhile: a cancelled copy (stays pending), not a failure
          if (f === 0 && Atomics.load(stops, k) === 1) { c.reject(cancelled(c.job)); return; }
          const createdByUs = f === 1 || f === 2;
          c.reject(Object.assign(new Error(`the copy worker stopped: ${(e as Error)?.message ?? String(e)}`, { cause: e }), { workerLost: true, createdByUs }));
        });
      });
    }
  }

  /** Whether the threads are up. */
  get running(): boolean { return this.pool !== null; }

  /** The threads stay (all started) while exports run; a minute without copies stops them (restarted on demand). */
  private taskEnded(): void {
    if (--this.inFlight > 0 || this.closed) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.inFlight > 0 || this.queue.length) return;
      const p = this.pool;
      this.pool = null;
      void p?.destroy().catch(() => undefined);
    }, this.opts.idleMs ?? IDLE_MS);
    this.idleTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = null; }
    const p = this.pool;
    this.pool = null;
    await p?.destroy();
  }
}

/** The file-system primitives plus the worker copy fast path of `workers`. */
export function workerFs(workers: CopyWorkers, base: ExportFs = nodeFs): ExportFs {
  return { ...base, copyVerified: (src, dst, expectHash, signal) => workers.copyVerified({ src, dst, expectHash }, signal) };
}

/** The process-wide copy workers of the default ExportFs (idle threads do not keep the process alive). */
export const defaultCopyWorkers = new CopyWorkers();
/** The export's default file system: real primitives + copies verified in the process-wide workers. */
export const exportFs: ExportFs = workerFs(defaultCopyWorkers);
