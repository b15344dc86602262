import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeLib, newDb, snapshot, tmp, listFiles } from './helpers.ts';

const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'bin', 'sift.mjs');
const sift = (db: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, '--db', db, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('sift export CLI', () => {
  it('dry run, run, list, undo, exit codes', async () => {
    const dir = tmp(); const db = newDb(dir); const dbPath = path.join(dir, 'sift.db');
    const src = path.join(dir, 'src'); const dest = path.join(dir, 'out');
    await makeLib(db, src, [{ rel: '1.jpg', labels: ['Cat'] }, { rel: '2.jpg', labels: ['Dog'] }, { rel: '3.jpg' }]);
    db.close();
    const before = snapshot(src, dest);

    const dry = sift(dbPath, 'export', '--to', dest, '--dry-run', '--json', '--unlabeled', 'skip');
    expect(dry.code, dry.err).toBe(0);
    const plan = JSON.parse(dry.out);
    expect(plan.folders.map((f: { folder: string }) => f.folder)).toEqual(['Cat', 'Dog']);
    expect(plan.skippedTotal).toBe(1);
    expect(snapshot(src, dest)).toEqual(before);

    // a FILE named like a label folder: that photo fails with a clear error, exit code 1, the rest is exported
    fs.mkdirSync(dest);
    fs.writeFileSync(path.join(dest, 'Dog'), 'not a folder');
    const dry2 = sift(dbPath, 'export', '--to', dest, '--dry-run', '--json');
    expect(JSON.parse(dry2.out).conflicts.filter((c: { kind: string }) => c.kind === 'blocked')).toHaveLength(1);
    const run = sift(dbPath, 'export', '--to', dest, '--mode', 'move');
    expect(run.code, run.err).toBe(1);
    expect(run.out).toMatch(/2 moved.*1 failed/s);
    expect(run.out).toMatch(/not a folder/);
    expect(listFiles(dest)).toEqual(['Cat/1.jpg', 'Dog', 'Unsorted/3.jpg']);

    const list = sift(dbPath, 'exports', '--json');
    expect(JSON.parse(list.out).map((x: { state: string }) => x.state)).toEqual(['done', 'planned', 'planned']);
    const undo = sift(dbPath, 'export', '--undo');
    expect(undo.code, undo.err).toBe(0);
    expect(undo.out).toMatch(/2 moved back/);
    expect(listFiles(dest)).toEqual(['Dog']);
    expect(listFiles(src)).toEqual(['1.jpg', '2.jpg', '3.jpg']);

    expect(sift(dbPath, 'export', '--to', dest, '--mode', 'bogus').code).toBe(2);
    const bad = sift(dbPath, 'export', '--to', dest, '--template', '{foo}');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown template token \{foo\}/);
    expect(sift(dbPath, 'export', '--resume', '42').err).toMatch(/No export with id 42/);
  }, 60_000);
});
