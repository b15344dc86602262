// Engine host for bench-protocol.ts: the same serveEngine as main/engine-host.ts, in a child process talking
// over Node's IPC channel (structured clone) instead of Electron's process.parentPort.
import { Engine } from '../../src/api/engine.ts';
import { serveEngine, type ToEngine } from '../../main/engine-protocol.ts';

const dbPath = process.argv[2];
if (!process.send || !dbPath) throw new Error('bench-engine: run me with child_process.fork(file, [dbPath])');
const engine = new Engine({ dbPath });
serveEngine(engine, {
  post: (msg) => process.send!(msg),
  listen(fn) {
    const h = (m: unknown) => fn(m as ToEngine);
    process.on('message', h);
    return () => process.off('message', h);
  },
}, () => process.exit(0));
