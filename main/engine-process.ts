// Main side of the engine: forks main/engine-host in an Electron utility process and hands out an
// EngineClient. When the process dies unexpectedly, pending calls fail with a clear message and the next
// start() spawns a fresh process (the database is WAL, so nothing committed is lost).
import { utilityProcess, type UtilityProcess } from 'electron';
import { EngineClient, type FromEngine, type ToEngine } from './engine-protocol.ts';

export interface EngineProcessOptions {
  /** Built engine-host entry (out/main/engine-host.js). */
  hostScript: string;
  dbPath: string;
  modelsDir: string;
  log?: (msg: string) => void;
  /** The engine process ended before it was ready (e.g. the database cannot be opened): `reason` says why. */
  onStartFailure?: (reason: string) => void;
}

export class EngineProcess {
  private child: UtilityProcess | null = null;
  private client: EngineClient | null = null;
  private stopping = false;
  private eventSinks = new Set<(e: Parameters<Parameters<EngineClient['onEvent']>[0]>[0]) => void>();

  constructor(private opts: EngineProcessOptions) {}

  /** The live client, spawning the process when there is none. */
  get(): EngineClient {
    if (this.client?.alive) return this.client;
    return this.spawn();
  }

  /** Engine events, across restarts. */
  onEvent(fn: (e: Parameters<Parameters<EngineClient['onEvent']>[0]>[0]) => void): () => void {
    this.eventSinks.add(fn);
    return () => this.eventSinks.delete(fn);
  }

  private spawn(): EngineClient {
    const log = this.opts.log ?? ((m: string) => console.error(m));
    const child = utilityProcess.fork(this.opts.hostScript, [`--db=${this.opts.dbPath}`, `--models=${this.opts.modelsDir}`], {
      serviceName: 'Sift engine',
      stdio: 'inherit',
    });
    const client = new EngineClient({
      post: (msg: ToEngine) => child.postMessage(msg),
      listen(fn: (msg: FromEngine) => void) {
        child.on('message', fn);
        return () => child.off('message', fn);
      },
    });
    client.onEvent((e) => {
      for (const sink of this.eventSinks) sink(e);
    });
    child.once('exit', (code) => {
      if (!this.stopping) log(`sift: the engine process exited (code ${code}); it restarts on the next call`);
      client.fail(`The engine process exited (code ${code}).`);
      if (!client.started && !this.stopping) this.opts.onStartFailure?.(client.failure ?? `exit code ${code}`);
      if (this.child === child) {
        this.child = null;
        this.client = null;
      }
    });
    this.child = child;
    this.client = client;
    return client;
  }

  /** Asks the engine to close its database, then ends the process. */
  async stop(timeoutMs = 3000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.client?.close();
    const timer = setTimeout(() => child.kill(), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
