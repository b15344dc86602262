// The engine facade: the one entry point every host uses (CLI, Electron utility process, web test host).
// Every call is validated against the contract's zod schema, then dispatched to the owning part's handler.
import fs from 'node:fs';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { openDb } from '../store/db.ts';
import { Jobs } from '../util/jobs.ts';
import { contract, isMethod, type Input, type MethodName, type Output, type SiftClient, type SiftEvent } from './contract/index.ts';
import { dataDirFor, type EngineContext } from './context.ts';
import { ApiError } from './errors.ts';
import { jobsHandlers } from './handlers/jobs.ts';
import { libraryHandlers } from './handlers/library.ts';
import { visionHandlers } from './handlers/vision.ts';
import { learnHandlers } from './handlers/learn.ts';
import { exportHandlers } from './handlers/export.ts';

export * from './contract/index.ts';
export { ApiError } from './errors.ts';

export interface EngineOptions {
  dbPath: string;
  /** Defaults to a sift-data folder next to the database. */
  dataDir?: string;
  /** Where the default converted models live; defaults to <repo>/resources/models. */
  modelsDir?: string;
}


const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

export class Engine implements SiftClient {
  readonly ctx: EngineContext;
  private events = new EventEmitter();
  private handlers: Record<string, (input: any) => unknown>;
  private closers: (() => void | Promise<void>)[] = [];

  constructor(opts: EngineOptions) {
    const dataDir = opts.dataDir ?? dataDirFor(opts.dbPath);
    fs.mkdirSync(dataDir, { recursive: true });
    const thumbsDir = path.join(dataDir, 'thumbnails');
    fs.mkdirSync(thumbsDir, { recursive: true });
    const db = openDb(opts.dbPath);
    this.events.setMaxListeners(100);
    const emit = (e: SiftEvent) => this.events.emit('event', e);
    this.ctx = {
      db, dbPath: opts.dbPath, dataDir, thumbsDir,
      modelsDir: opts.modelsDir ?? process.env.SIFT_MODELS_DIR ?? path.join(repoRoot, 'resources', 'models'),
      emit, jobs: new Jobs(emit), stages: [],
      onEvent: (listener) => this.onEvent(listener),
      onClose: (fn) => { this.closers.push(fn); },
    };
    this.handlers = {
      ...jobsHandlers(this.ctx),
      ...libraryHandlers(this.ctx),
      ...visionHandlers(this.ctx),
      ...learnHandlers(this.ctx),
      ...exportHandlers(this.ctx),
    };
    for (const name of Object.keys(contract)) {
      if (!this.handlers[name]) throw new Error(`engine: no handler for ${name}`);
    }
  }

  async call<K extends MethodName>(name: K, input: Input<K>): Promise<Output<K>> {
    if (!isMethod(name)) throw new ApiError(`Unknown API method: ${String(name)}`);
    const parsed = contract[name].input.safeParse(input ?? {});
    if (!parsed.success) {
      throw new ApiError(`Invalid input for ${name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`);
    }
    return (await this.handlers[name](parsed.data)) as Output<K>;
  }

  onEvent(listener: (e: SiftEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  /**
   * Cancels running jobs, runs the parts' close hooks (they let running worker tasks finish, then stop the
   * pools), then closes the database: after the hooks, so that a task finishing meanwhile still finds it open
   * (at most 10 s; a hook that hangs does not keep the database open).
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    for (const j of this.ctx.jobs.list()) this.ctx.jobs.cancel(j.jobId);
    const pending = this.closers.splice(0).map((fn) => {
      try { return Promise.resolve(fn()).catch(() => {}); } catch { return Promise.resolve(); }
    });
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => { timer = setTimeout(resolve, 10_000); timer.unref(); });
    this.closing = Promise.race([Promise.all(pending), limit]).then(() => {
      clearTimeout(timer);
      if (this.ctx.db.open) this.ctx.db.close();
    });
    return this.closing;
  }
  private closing: Promise<void> | null = null;
}
