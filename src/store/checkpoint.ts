// WAL checkpoints off the engine's thread.
//
// SQLite checkpoints a WAL database in the thread that commits, when a commit finds the log over 1,000 pages, and a
// checkpoint fsyncs the log and the database. While an export's write-back fills the disk queue such an fsync took
// 55-185 ms (once a plan took 463 ms instead of 15 ms), and the export's pipeline waited for it. While a hold() is
// active, the connection does not checkpoint by itself; after commits, maybe() asks a worker thread with a connection of
// its own for a PASSIVE checkpoint (it never blocks writers) once the log holds more than LOG_LIMIT (4 MiB, about the
// 1,000 pages at which SQLite would have checkpointed), at most one at a time and one per `everyMs`; again when the
// last hold ends. The connection's journal_size_limit is LOG_LIMIT, so the log file is cut back to it when it is
// reused and its size tells how much was written since. What stays on this thread: after a completed checkpoint, the
// next commit starts the log again from its beginning and SQLite syncs the log's header then (one fsync per
// checkpoint, as before; the checkpoint's own two fsyncs and writes are the worker's).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { sqliteNativeBinding, type DB } from './db.ts';

export interface CheckpointResult { busy: number; log: number; checkpointed: number }

/** What the export needs of it (a no-op object does for tests and :memory: databases). */
export interface Checkpoints {
  /** Takes checkpoints off the connection until the returned function is called (nested holds are counted). */
  hold(): () => void;
  /** After a commit: a background checkpoint, if the log is over LOG_LIMIT, none is running and the last one is
   *  `everyMs` old. */
  maybe(): void;
}

const AUTOCHECKPOINT = 1000;   // SQLite's default (pages)
export const LOG_LIMIT = 4 << 20;

export class Checkpointer implements Checkpoints {
  private pool: Piscina | null = null;
  private running: Promise<void> | null = null;
  private finishing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private holds = 0;
  private lastAt = -Infinity;
  private closed = false;
  private readonly limit: number;
  /** Background checkpoints started, checkpoints made in this thread (the log over 4x the limit), the result of the
   *  last background one (for tests and diagnostics). */
  started = 0;
  inline = 0;
  last: CheckpointResult | null = null;
  readonly enabled: boolean;

  constructor(private db: DB, private file: string, private opts: { everyMs?: number; logLimit?: number } = {}) {
    this.enabled = file !== ':memory:' && !db.memory && String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
    this.limit = opts.logLimit ?? LOG_LIMIT;
    if (this.enabled) db.pragma(`journal_size_limit = ${this.limit}`);
  }

  hold(): () => void {
    if (!this.enabled || this.closed) return () => {};
    if (this.holds === 0) {
      this.db.pragma('wal_autocheckpoint = 0');
      // other writers on this connection (indexing, labels) commit without calling maybe(): look now and then
      this.timer = setInterval(() => this.maybe(), Math.max(250, this.opts.everyMs ?? 1000));
      this.timer.unref();
    }
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holds > 0) return;
      if (this.timer) { clearInterval(this.timer); this.timer = null; }
      this.finishing = this.finish().catch(() => undefined);
    };
  }

  /**
   * After the last hold: what it kept in the log is checkpointed in the background first, then SQLite's own
   * checkpoints come back (restored at once, the next commit would find the long log and checkpoint it here).
   */
  private async finish(): Promise<void> {
    await this.idle();
    if (this.holds > 0) return;
    if (!this.closed && this.walSize() > this.limit) { this.lastAt = -Infinity; this.maybe(); await this.idle(); }
    if (this.holds === 0 && this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT}`);
  }

  maybe(): void {
    if (!this.enabled || this.closed || this.running) return;
    const size = this.walSize();
    if (size <= this.limit) return;
    if (size > 4 * this.limit && this.holds > 0) {
      // commits keep landing during the background checkpoints, so the log is never caught up and reused: one
      // checkpoint here (little left to copy) lets the next commit start it again
      this.inline++;
      try { this.db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy: the next commit tries again */ }
      return;
    }
    const now = performance.now();
    if (now - this.lastAt < (this.opts.everyMs ?? 1000)) return;
    this.lastAt = now;
    this.started++;
    // the copy of better-sqlite3 built for Electron's ABI, decided on this thread as openDb does
    this.running = (this.getPool().run({ file: this.file, nativeBinding: sqliteNativeBinding() }) as Promise<CheckpointResult>)
      .then((r) => {
        this.last = r;
        // commits landed meanwhile (the log was not caught up): the next commit may start another at once
        this.lastAt = -Infinity;
      }, () => undefined)
      .finally(() => { this.running = null; });
  }

  private walSize(): number {
    try { return fs.statSync(`${this.file}-wal`).size; } catch { return 0; }
  }

  /** Resolves when no background checkpoint is running. */
  async idle(): Promise<void> { while (this.running) await this.running; }

  /** Resolves when the last hold's final checkpoint is done and SQLite's own checkpoints are back. */
  async settled(): Promise<void> { await this.finishing; await this.idle(); }

  async close(): Promise<void> {
    if (this.timer) { clearInterval(this.timer); this.timer = null; }
    await this.settled();
    this.closed = true;
    await this.idle();
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT}`);
    const p = this.pool;
    this.pool = null;
    if (p) { await p.run({ close: true }).catch(() => undefined); await p.destroy(); }
  }

  private getPool(): Piscina {
    // one thread, started on the first checkpoint; plain JavaScript, without this process's flags (no tsx)
    if (!this.pool) {
      this.pool = new Piscina({
        filename: fileURLToPath(new URL('./checkpoint.worker.mjs', import.meta.url)),
        minThreads: 1, maxThreads: 1, idleTimeout: 60_000, execArgv: [],
      });
      this.pool.on('error', () => undefined);   // a thread that dies between tasks (its task, if any, rejects)
    }
    return this.pool;
  }
}
