// The wire between main and the engine's utility process: numbered calls, replies and pushed events over one
// message port. Pure of Electron (the utility process's process.parentPort and main's UtilityProcess are both
// adapted to `Port`), so vitest drives a real Engine through it.
import type { Input, MethodName, Output, SiftClient, SiftEvent } from '../src/api/contract/index.ts';

export type ToEngine = { kind: 'call'; id: number; name: string; input: unknown } | { kind: 'close' };

export type FromEngine =
  | { kind: 'ready'; thumbsDir: string; dbPath: string; modelsDir: string }
  | { kind: 'reply'; id: number; ok: true; value: unknown }
  | { kind: 'reply'; id: number; ok: false; error: { message: string; code: string } }
  | { kind: 'event'; event: SiftEvent }
  | { kind: 'fatal'; message: string };

export interface Port<Out, In> {
  post(msg: Out): void;
  /** Subscribes to incoming messages; returns the unsubscribe function. */
  listen(fn: (msg: In) => void): () => void;
}

export interface ServedEngine extends SiftClient {
  ctx: { thumbsDir: string; dbPath: string; modelsDir: string };
  close(): void | Promise<void>;
}

/** Utility-process side: answers calls on `port` with `engine`, forwards its events. Returns a stop function. */
export function serveEngine(engine: ServedEngine, port: Port<FromEngine, ToEngine>, onClose: () => void = () => {}): () => Promise<void> {
  const offEvents = engine.onEvent((event) => port.post({ kind: 'event', event }));
  const offMessages = port.listen((msg) => {
    if (!msg || typeof msg !== 'object') return;
    if (msg.kind === 'close') {
      // exit only after the engine has stopped its jobs and worker pools and closed the database
      void stop().finally(onClose);
      return;
    }
    if (msg.kind !== 'call' || typeof msg.id !== 'number') return;
    Promise.resolve()
      .then(() => engine.call(msg.name as MethodName, msg.input as never))
      .then(
        (value) => port.post({ kind: 'reply', id: msg.id, ok: true, value: toWire(value) }),
        (err: unknown) => {
          const e = err as { message?: unknown; code?: unknown };
          port.post({
            kind: 'reply', id: msg.id, ok: false,
            error: { message: typeof e?.message === 'string' ? e.message : String(err), code: typeof e?.code === 'string' ? e.code : 'internal' },
          });
        },
      );
  });
  port.post({ kind: 'ready', thumbsDir: engine.ctx.thumbsDir, dbPath: engine.ctx.dbPath, modelsDir: engine.ctx.modelsDir });
  let stopped = false;
  function stop(): Promise<void> {
    if (stopped) return Promise.resolve();
    stopped = true;
    offEvents();
    offMessages();
    return Promise.resolve().then(() => engine.close()).catch(() => {});
  }
  return stop;
}

/** Outputs are JSON-serialisable by contract; undefined becomes null so the reply always carries a value. */
function toWire(value: unknown): unknown {
  return value === undefined ? null : value;
}

export class EngineUnavailableError extends Error {
  readonly code = 'internal';
  constructor(message: string) {
    super(message);
    this.name = 'EngineUnavailableError';
  }
}

/** Main side: a SiftClient whose calls travel to the engine process. */
export class EngineClient implements SiftClient {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private listeners = new Set<(e: SiftEvent) => void>();
  private readyInfo: Extract<FromEngine, { kind: 'ready' }> | null = null;
  private readyWaiters: { resolve: (info: Extract<FromEngine, { kind: 'ready' }>) => void; reject: (e: Error) => void }[] = [];
  private off: () => void;
  private dead: string | null = null;

  constructor(private port: Port<ToEngine, FromEngine>) {
    this.off = port.listen((msg) => this.onMessage(msg));
  }

  private onMessage(msg: FromEngine): void {
    if (msg.kind === 'ready') {
      this.readyInfo = msg;
      for (const w of this.readyWaiters.splice(0)) w.resolve(msg);
    } else if (msg.kind === 'reply') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
    } else if (msg.kind === 'event') {
      for (const l of this.listeners) l(msg.event);
    } else if (msg.kind === 'fatal') {
      this.fail(`The engine stopped: ${msg.message}`);
    }
  }

  /** The engine's folders, once it has started. */
  ready(): Promise<Extract<FromEngine, { kind: 'ready' }>> {
    if (this.readyInfo) return Promise.resolve(this.readyInfo);
    if (this.dead) return Promise.reject(new EngineUnavailableError(this.dead));
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  call<K extends MethodName>(name: K, input: Input<K>): Promise<Output<K>> {
    if (this.dead) return Promise.reject(new EngineUnavailableError(this.dead));
    const id = this.nextId++;
    return new Promise<Output<K>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.port.post({ kind: 'call', id, name, input });
    });
  }

  onEvent(listener: (e: SiftEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The process ended or failed: every pending and later call rejects with `reason`. */
  fail(reason: string): void {
    if (this.dead) return;
    this.dead = reason;
    for (const [, p] of this.pending) p.reject(new EngineUnavailableError(reason));
    this.pending.clear();
    for (const w of this.readyWaiters.splice(0)) w.reject(new EngineUnavailableError(reason));
    this.off();
  }

  get alive(): boolean {
    return this.dead === null;
  }

  /** Why the engine is gone (null while alive). */
  get failure(): string | null {
    return this.dead;
  }

  /** Whether the engine reported ready (started and opened its database). */
  get started(): boolean {
    return this.readyInfo !== null;
  }

  close(): void {
    if (this.dead) return;
    this.port.post({ kind: 'close' });
    this.fail('The engine was closed.');
  }
}
