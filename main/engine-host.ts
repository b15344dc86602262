// Entry of the engine's Electron utility process: opens the Engine on the database main names and serves its
// API over process.parentPort (see engine-protocol.ts), so decoding, inference and SQLite never block main.
// Arguments: --db=<path> [--models=<dir>] [--data=<dir>].
import { Engine } from '../src/api/engine.ts';
import { serveEngine, type FromEngine, type Port, type ToEngine } from './engine-protocol.ts';

interface ParentPortLike {
  postMessage(msg: unknown): void;
  on(event: 'message', fn: (e: { data: unknown }) => void): void;
  off(event: 'message', fn: (e: { data: unknown }) => void): void;
}

function arg(name: string): string | undefined {
  const prefix = `--${name}=`;
  const hit = process.argv.find((a) => a.startsWith(prefix));
  return hit ? hit.slice(prefix.length) : undefined;
}

const parentPort = (process as unknown as { parentPort?: ParentPortLike }).parentPort;
if (!parentPort) {
  console.error('engine-host: not running in an Electron utility process (no process.parentPort)');
  process.exit(2);
}

const port: Port<FromEngine, ToEngine> = {
  post: (msg) => parentPort.postMessage(msg),
  listen(fn) {
    const h = (e: { data: unknown }) => fn(e.data as ToEngine);
    parentPort.on('message', h);
    return () => parentPort.off('message', h);
  },
};

const dbPath = arg('db');
if (!dbPath) {
  port.post({ kind: 'fatal', message: 'engine-host: --db=<path> is required' });
  setTimeout(() => process.exit(2), 200);
} else {
  start(dbPath);
}

function start(db: string): void {
  try {
    const engine = new Engine({ dbPath: db, modelsDir: arg('models'), dataDir: arg('data') });
    serveEngine(engine, port, () => process.exit(0));
  } catch (err) {
    // Let the message reach main before leaving.
    port.post({ kind: 'fatal', message: err instanceof Error ? err.message : String(err) });
    setTimeout(() => process.exit(1), 200);
  }
}

