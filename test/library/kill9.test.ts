import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { makeLibrary } from '../helpers/fixtures.ts';
import { tmpDir } from './util.ts';
import { Engine } from '../../src/api/engine.ts';

const repo = path.resolve(import.meta.dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('kill -9 mid-scan', () => {
  it('leaves a consistent database; the next scan resumes without redoing finished files', { timeout: 240_000 }, async () => {
    const dir = tmpDir('sift-kill-');
    const lib = path.join(dir, 'lib');
    const N = 160;
    await makeLibrary(lib, { groupCount: 8, perGroup: N / 8, defaults: { width: 1000, height: 750, noise: 30 } });
    const db = path.join(dir, 'sift.db');
    const child = spawn(process.execPath, [path.join(repo, 'bin', 'sift.mjs'), '--db', db, 'index', '--no-embed', lib], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let killedAt = -1;
    const t0 = Date.now();
    while (Date.now() - t0 < 120_000) {
      await sleep(25);
      if (!fs.existsSync(db)) continue;
      let n: number;
      try {
        const ro = new Database(db, { readonly: true, fileMustExist: true });
        try { n = (ro.prepare('SELECT COUNT(*) AS n FROM photos').get() as { n: number }).n; } catch { n = 0; } finally { ro.close(); }
      } catch { continue; }
      if (n >= 10) { child.kill('SIGKILL'); killedAt = n; break; }
    }
    await exited;
    expect(killedAt).toBeGreaterThanOrEqual(10);

    const engine = new Engine({ dbPath: db });
    engine.ctx.stages.length = 0;
    try {
      expect(engine.ctx.db.pragma('integrity_check', { simple: true })).toBe('ok');
      const done = (engine.ctx.db.prepare("SELECT COUNT(*) AS n FROM photos WHERE status = 'ok'").get() as { n: number }).n;
      expect(done).toBeGreaterThanOrEqual(killedAt);
      expect(done).toBeLessThan(N); // killed before the end, so the test means something
      // a temp file a killed scan could leave behind (old), and one a concurrent scan is writing (new)
      const staleDir = path.join(engine.ctx.thumbsDir, 'ab');
      fs.mkdirSync(staleDir, { recursive: true });
      const stale = path.join(staleDir, 'abcd.jpg.123.1.tmp');
      const fresh = path.join(staleDir, 'abce.jpg.124.1.tmp');
      fs.writeFileSync(stale, 'half');
      fs.writeFileSync(fresh, 'half');
      fs.utimesSync(stale, new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));
      const s = await engine.call('library.index', {});
      expect(fs.existsSync(stale)).toBe(false);
      expect(fs.existsSync(fresh)).toBe(true);
      expect(s).toMatchObject({ found: N, unchanged: done, added: N - done, updated: 0, failed: [], duplicates: 0, cancelled: false });
      const photos = await engine.call('library.photos', {});
      expect(photos).toHaveLength(N);
      expect(new Set(photos.map((p) => p.path)).size).toBe(N);
      // every thumbnail is complete
      for (const p of photos) {
        expect(p.status).toBe('ok');
        const m = await sharp(p.thumbnail!).metadata();
        expect([m.width, m.height]).toEqual([320, 240]);
        await sharp(p.thumbnail!, { failOn: 'warning' }).raw().toBuffer();
      }
    } finally {
      engine.close();
    }
  });
});
