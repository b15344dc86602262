// kill -9 of an export child process at random points, followed by resume and by undo. After every kill, every
// resume and every undo: each source photo exists byte-identical at its source or its destination, nothing else
// changed; after a resume the export is complete; after an undo the trees are exactly as before.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { planExport, type ExportOptions } from '../../src/export/plan.ts';
import { runExport, undoExport, getExport, effectiveState } from '../../src/export/run.ts';
import { nodeFs, type ExportFs } from '../../src/export/fsops.ts';
import { rng } from '../helpers/fixtures.ts';
import { assertNothingLost, faultyFs, makeLib, newDb, snapshot, tmp } from './helpers.ts';
import type { DB } from '../../src/store/db.ts';

const child = path.join(path.dirname(new URL(import.meta.url).pathname), 'kill-child.ts');
const SEED = Number(process.env.SIFT_KILL_SEED ?? 20261128);

function runChild(args: string[], killAfterMs?: number): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => {
      out += d;
      if (killAfterMs !== undefined && out.includes('ready\n')) { const t = killAfterMs; killAfterMs = undefined; setTimeout(() => p.kill('SIGKILL'), t); }
    });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code, signal, out, err }));
  });
}

interface Lane { name: string; mode: ExportOptions['mode']; exdev: boolean; keywords: boolean }

async function lane(l: Lane, runKills: number, undoKills: number, timerKills: number): Promise<number> {
  const rand = rng(SEED + l.name.length * 7919);
  const dir = tmp(`sift-kill-${l.name}-`);
  const db: DB = newDb(dir);
  const dbPath = path.join(dir, 'sift.db');
  const src = path.join(dir, 'src'); const dest = path.join(dir, 'out');
  await makeLib(db, src, [
    { rel: 'a/IMG_1.JPG', labels: ['Cats', 'Pets'] }, { rel: 'a/IMG_2.JPG', labels: ['Dogs'] }, { rel: 'b/IMG_1.JPG', labels: ['Cats'] },
    { rel: 'b/IMG_4.jpg' }, { rel: 'c/IMG_5.jpg', labels: ['Dogs', 'Pets'] }, { rel: 'c/IMG_6.jpg', labels: ['Cats'], big: true },
  ]);
  fs.writeFileSync(path.join(src, 'a', 'IMG_2.xmp'), '<xmp/>');
  fs.writeFileSync(path.join(src, 'c', 'IMG_5.CR2'), Buffer.alloc(50_000, 7));
  fs.mkdirSync(path.join(dest, 'Cats'), { recursive: true });
  fs.writeFileSync(path.join(dest, 'Cats', 'IMG_1.JPG'), 'a different file with the same name');
  const before = snapshot(src, dest);
  const opts: ExportOptions = { to: dest, mode: l.mode, template: '{label}', unlabeled: 'folder', unsortedName: 'Unsorted', keywords: l.keywords };
  const xfs: ExportFs = l.exdev ? faultyFs((op) => (op === 'link' ? 'EXDEV' : null)) : nodeFs;
  const allowMoved = l.mode === 'move';

  // count the file-system operations of a full run and of a full undo (the range of the kill points)
  let ops = 0;
  const counting = faultyFs(() => { ops++; return null; }, xfs);
  let plan = await planExport(db, opts, xfs);
  await runExport({ db, fs: counting }, plan.exportId);
  const runOps = ops; ops = 0;
  const complete = snapshot(src, dest);
  await undoExport({ db, fs: counting }, plan.exportId);
  const undoOps = ops;
  expect(snapshot(src, dest)).toEqual(before);
  let kills = 0;

  const checkResumed = async (id: number) => {
    const r = await runExport({ db, fs: xfs }, id);
    expect(r.state, JSON.stringify(r)).toBe('done');
    expect(r.failedTotal).toBe(0);
    expect(snapshot(src, dest)).toEqual(complete);                      // the resumed export = the uninterrupted one
  };

  for (let i = 0; i < runKills + timerKills; i++) {
    plan = await planExport(db, opts, xfs);
    const timer = i >= runKills;
    const killAt = 1 + Math.floor(rand() * runOps);
    const partial = rand() < 0.5 ? '1' : '0';
    const res = await runChild([dbPath, String(plan.exportId), 'run', timer ? '0' : String(killAt), partial, l.exdev ? '1' : '0'], timer ? Math.floor(rand() * 400) : undefined);
    if (res.signal !== 'SIGKILL' && res.code !== 0) throw new Error(`child failed: ${res.err}`);
    const where = `${l.name} kill #${i} at op ${timer ? 'timer' : killAt}/${runOps}`;
    try { assertNothingLost(before, src, dest, { allowMoved }); } catch (e) { throw new Error(`${where}: ${(e as Error).message}`, { cause: e }); }
    const state = effectiveState(db, getExport(db, plan.exportId));
    // a timer kill may land after the export finished (state done); an op-indexed kill always interrupts it
    if (res.signal === 'SIGKILL' && !timer) expect(state, where).toBe('interrupted');
    if (state === 'interrupted') kills++;
    if (i % 2 === 0) {
      await checkResumed(plan.exportId);                                  // kill -> resume -> undo
    }
    const u = await undoExport({ db, fs: xfs }, plan.exportId);         // (or kill -> undo directly)
    expect(u.failed, where).toEqual([]);
    expect(u.kept, where).toEqual([]);
    expect(snapshot(src, dest), where).toEqual(before);
    if (allowMoved) {
      const paths = (db.prepare(`SELECT path FROM photos ORDER BY id`).all() as { path: string }[]).map((r) => r.path);
      expect(paths.every((p) => p.startsWith(src)), where).toBe(true); // the index followed the files back
    }
  }

  // kills during an undo, followed by the undo again
  for (let i = 0; i < undoKills; i++) {
    plan = await planExport(db, opts, xfs);
    await runExport({ db, fs: xfs }, plan.exportId);
    const killAt = 1 + Math.floor(rand() * undoOps);
    const res = await runChild([dbPath, String(plan.exportId), 'undo', String(killAt), rand() < 0.5 ? '1' : '0', l.exdev ? '1' : '0']);
    if (res.signal !== 'SIGKILL' && res.code !== 0) throw new Error(`child failed: ${res.err}`);
    assertNothingLost(before, src, dest, { allowMoved });
    if (res.signal === 'SIGKILL') {
      kills++;
      expect(effectiveState(db, getExport(db, plan.exportId))).toBe('undo-interrupted');
      const u = await undoExport({ db, fs: xfs }, plan.exportId);
      expect(u.failed).toEqual([]);
    }
    expect(snapshot(src, dest)).toEqual(before);
  }
  db.close();
  return kills;
}

describe('kill -9 during export', () => {
  it('an export child killed at >= 20 random points: resume completes it, undo restores everything; nothing is ever lost', async () => {
    const lanes: Lane[] = [
      { name: 'copy', mode: 'copy', exdev: false, keywords: true },
      { name: 'move', mode: 'move', exdev: false, keywords: false },
      { name: 'move-xdev', mode: 'move', exdev: true, keywords: true },
    ];
    const kills = await Promise.all(lanes.map((l) => lane(l, 6, 2, 1)));
    const total = kills.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(20);
  }, 120_000);
});
