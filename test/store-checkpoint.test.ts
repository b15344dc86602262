// WAL checkpoints off the engine's thread (src/store/checkpoint.ts): while held, the connection never checkpoints by
// itself; a worker thread with its own connection does, and after the hold SQLite's default is back.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb } from '../src/store/db.ts';
import { Checkpointer, LOG_LIMIT } from '../src/store/checkpoint.ts';
import { Engine } from '../src/api/engine.ts';
import { makeLib, tmp } from './export/helpers.ts';

/** A fresh database file in WAL mode with one table to fill. */
function walDb() {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sift-ckpt-')), 'db.sqlite');
  const db = openDb(file, { migrate: false });
  db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)');
  return { file, db };
}
const walBytes = (file: string) => fs.statSync(`${file}-wal`).size;
const fill = (db: ReturnType<typeof openDb>, n: number) => {
  const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
  for (let k = 0; k < n; k++) db.transaction(() => { for (let i = 0; i < 100; i++) ins.run('x'.repeat(400)); })();
};

describe('Checkpointer', () => {
  it('while held, commits never checkpoint the log; the worker thread does, and the default comes back', async () => {
    const { file, db } = walDb();
    const cp = new Checkpointer(db, file, { everyMs: 0 });
    expect(cp.enabled).toBe(true);
    const release = cp.hold();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    fill(db, 5);
    cp.maybe();                                                 // a small log: no checkpoint yet
    expect(cp.started).toBe(0);
    // about 1,500 pages, past the 1,000 at which this connection would checkpoint (and reuse the log)
    fill(db, 100);
    const grown = walBytes(file);
    expect(grown).toBeGreaterThan(LOG_LIMIT);
    fill(db, 5);
    expect(walBytes(file)).toBeGreaterThan(grown);              // still appending: nobody checkpointed
    cp.maybe();
    await cp.idle();
    expect(cp.started).toBe(1);
    expect(cp.last).toMatchObject({ busy: 0 });
    expect(cp.last!.log).toBeGreaterThan(1000);
    expect(cp.last!.checkpointed).toBe(cp.last!.log);          // all of it, by the worker's connection
    // the next transaction starts the log again from its beginning (and cuts the file back to the limit)
    const before = walBytes(file);
    fill(db, 5);
    expect(walBytes(file)).toBeLessThan(before);
    expect(walBytes(file)).toBe(LOG_LIMIT);
    release();
    await cp.settled();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(db.prepare('SELECT COUNT(*) n FROM t').get()).toEqual({ n: 11500 });
    await cp.close();
    db.close();
  });

  it('nested holds: the default comes back with the last release; :memory: databases are left alone', async () => {
    const { file, db } = walDb();
    const cp = new Checkpointer(db, file);
    const a = cp.hold(), b = cp.hold();
    a();
    a();   // twice: no effect
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    b();
    await cp.settled();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    await cp.close();
    db.close();
    const mem = openDb(':memory:', { migrate: false });
    const none = new Checkpointer(mem, ':memory:');
    expect(none.enabled).toBe(false);
    none.hold()();
    none.maybe();
    expect(none.started).toBe(0);
    await none.close();
    mem.close();
  });

  it('after the last hold, the long log is checkpointed in the worker before SQLite\'s own checkpoints come back', async () => {
    const { file, db } = walDb();
    const cp = new Checkpointer(db, file);
    const release = cp.hold();
    fill(db, 100);                                              // over the limit, without calling maybe()
    release();
    // not yet: a commit now would find the long log and checkpoint it in this thread
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    await cp.settled();
    expect(cp.started).toBe(1);
    expect(cp.last!.checkpointed).toBe(cp.last!.log);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    await cp.close();
    db.close();
  });

  it('a log past 4x the limit while held (as when commits land during every background checkpoint, so it is never reused) is checkpointed here once', async () => {
    const { file, db } = walDb();
    const limit = 256 << 10;
    const cp = new Checkpointer(db, file, { logLimit: limit, everyMs: 60_000 });
    const release = cp.hold();
    fill(db, 12);
    cp.maybe();                                                 // over the limit: the worker is asked
    expect(cp.started).toBe(1);
    await cp.idle();
    fill(db, 40);                                               // far past 4x the limit
    cp.maybe();
    expect(cp.inline).toBe(1);
    fill(db, 1);                                                // the next commit starts the log again
    expect(walBytes(file)).toBe(limit);
    release();
    await cp.close();
    db.close();
  });

  it('an export through the engine holds the checkpoints while it runs, and gives them back', async () => {
    const dir = tmp();
    const dbPath = path.join(dir, 'sift.db');
    const engine = new Engine({ dbPath, dataDir: path.join(dir, 'data') });
    await makeLib(engine.ctx.db, path.join(dir, 'src'), Array.from({ length: 6 }, (_, i) => ({ rel: `p${i}.jpg`, labels: ['A'] })));
    const seen: number[] = [];
    const off = engine.onEvent((e) => { if (e.type === 'job.progress') seen.push(Number(engine.ctx.db.pragma('wal_autocheckpoint', { simple: true }))); });
    const plan = await engine.call('export.plan', { to: path.join(dir, 'out'), mode: 'copy' });
    const run = await engine.call('export.run', { exportId: plan.exportId });
    off();
    expect(run).toMatchObject({ created: 6, failedTotal: 0 });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((v) => v === 0)).toBe(true);             // held while it ran
    await engine.close();   // (settles the checkpointer first)
    const db = openDb(dbPath, { migrate: false });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });
});
