// Child process for the kill -9 tests: runs (or undoes) ONE export from the journal, and SIGKILLs itself right
// before its n-th file-system operation (optionally after writing half of a copy, as a kill in mid-copy would).
// argv: dbPath exportId run|undo killAt(0 = never: the parent kills it on a timer) partial(0|1) exdev(0|1)
import fs from 'node:fs';
import { openDb } from '../../src/store/db.ts';
import { nodeFs, type ExportFs } from '../../src/export/fsops.ts';
import { runExport, undoExport } from '../../src/export/run.ts';
import { exportFs } from '../../src/export/copy.ts';

const [dbPath, idArg, action, killAtArg, partialArg, exdevArg] = process.argv.slice(2);
const killAt = Number(killAtArg);
let n = 0;
const xfs = {} as ExportFs;
for (const k of Object.keys(nodeFs) as (keyof ExportFs)[]) {
  (xfs as any)[k] = async (...args: any[]) => {
    n++;
    if (killAt && n === killAt) {
      if (k === 'copyFileExcl' && partialArg === '1') {
        const buf = fs.readFileSync(args[0]);
        fs.writeFileSync(args[1], buf.subarray(0, buf.length >> 1), { flag: 'wx' });
      }
      process.kill(process.pid, 'SIGKILL');
      await new Promise(() => {});
    }
    if (k === 'link' && exdevArg === '1') throw Object.assign(new Error('EXDEV: injected'), { code: 'EXDEV' });
    return (nodeFs as any)[k](...args);
  };
}
const db = openDb(dbPath);
process.stdout.write('ready\n');
// killed by the parent on a timer (killAt 0): the real default file system, copies verified in worker threads
const env = { db, fs: killAt === 0 && exdevArg !== '1' ? exportFs : xfs };
const out = action === 'undo' ? await undoExport(env, Number(idArg)) : await runExport(env, Number(idArg));
process.stdout.write(JSON.stringify({ ops: n, state: out.state }) + '\n');
db.close();
