// Benchmark of the sift:// thumbnail path as the desktop app runs it: the renderer asks for sift://thumb/<id>,
// main decides (protocol-core + protocol-deps: one library.photo call to the engine per id, then cached) and
// reads the file. The engine runs in another process behind the same wire as the utility process.
//
//   npx tsx test/electron/bench-protocol.ts [--library DIR] [--photos N] [--concurrency C]
//
// Without --library it generates N photos (default 300) with sharp. Run alone on a quiet machine:
// `flock /tmp/bench.lock npx tsx test/electron/bench-protocol.ts --library ../shared/data/dev-library`.
// Reference: a fast gallery fling shows ~60 new thumbnails per 16.7 ms frame => <= 0.28 ms per thumbnail.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EngineClient, type FromEngine, type ToEngine } from '../../main/engine-protocol.ts';
import { decide, readChecked } from '../../main/protocol-core.ts';
import { engineProtocolDeps } from '../../main/protocol-deps.ts';
import { makeLibrary } from '../helpers/fixtures.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => { const i = args.indexOf(`--${name}`); return i >= 0 && args[i + 1] ? args[i + 1] : def; };
const BUDGET_MS = 16.7 / 60;
const concurrency = Number(opt('concurrency', '32'));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sift-bench-proto-'));
let library = opt('library', '');
if (!library) {
  library = path.join(tmp, 'photos');
  const n = Number(opt('photos', '300'));
  await makeLibrary(library, { groupCount: Math.ceil(n / 10), perGroup: 10, defaults: { width: 640, height: 480 } });
}

// The engine in its own process, like Electron's utility process (structured-clone IPC).
const child = fork(fileURLToPath(new URL('./bench-engine.worker.ts', import.meta.url)), [path.join(tmp, 'db', 'sift.db')], {
  execArgv: ['--import', 'tsx'],
  serialization: 'advanced',
  stdio: 'inherit',
});
const client = new EngineClient({
  post: (msg: ToEngine) => child.send(msg),
  listen(fn: (m: FromEngine) => void) {
    const h = (m: unknown) => fn(m as FromEngine);
    child.on('message', h);
    return () => child.off('message', h);
  },
});
const ready = await client.ready();
const t0 = performance.now();
const summary = await client.call('library.index', { roots: [library], stages: false });
const ids = (await client.call('library.photos', { status: 'ok' })).map((p) => p.id);
console.log(`library: ${library} — ${ids.length} photos indexed in ${((performance.now() - t0) / 1000).toFixed(1)} s (failed ${summary.failed.length})`);

async function pass(label: string, deps: ReturnType<typeof engineProtocolDeps>, read: boolean): Promise<number> {
  let next = 0;
  let bytes = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < ids.length) {
      const id = ids[next++];
      const d = await decide(`sift://thumb/${id}`, 'GET', deps);
      if (!d.ok) throw new Error(`thumb ${id}: ${d.reason}`);
      if (read) {
        const n = (await readChecked(d.file)).length;
        bytes += n;
      }
    }
  }));
  const ms = (performance.now() - start) / ids.length;
  const verdict = ms <= BUDGET_MS ? 'within' : 'OVER';
  console.log(`${label.padEnd(44)} ${ms.toFixed(3)} ms/thumbnail  (reference ≤ ${BUDGET_MS.toFixed(2)} ms: ${verdict})${read ? `  avg ${(bytes / ids.length / 1024).toFixed(1)} KiB` : ''}`);
  return ms;
}

const fresh = () => engineProtocolDeps({ client: () => client, thumbsDir: async () => ready.thumbsDir, rendererDir: null });
await pass('cold: engine lookup + checks', fresh(), false);
const warm = fresh();
await pass('cold: engine lookup + checks + read', warm, true);
await pass('warm (cached lookup): checks + read', warm, true);
await pass('warm (cached lookup): checks only', warm, false);
console.log(`concurrency ${concurrency}, ${os.cpus().length} cores (shared machine: figures are indicative)`);

client.close();
await new Promise((r) => setTimeout(r, 200));
child.kill();
fs.rmSync(tmp, { recursive: true, force: true });
