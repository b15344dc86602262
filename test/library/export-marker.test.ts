// An export into a folder inside a library root: the export marks its destination with `.sift-export`, and the
// library scan skips marked folders, so the copies are not indexed as duplicates of their originals. A move writes no
// marker (the moved photos are the library: the scan must keep finding them). Undo removes the marker it wrote.
// Real engine, real indexer, real files (owned by the export work; the crawler's skip is src/library/crawl.ts).
import { describe, it, expect, onTestFinished } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { makeJpeg } from '../helpers/fixtures.ts';
import { newEngine, tmpDir } from './util.ts';

async function library(n: number) {
  const dir = tmpDir();
  const { engine } = newEngine(dir);
  onTestFinished(() => engine.close());
  const lib = path.join(dir, 'photos');
  for (let i = 0; i < n; i++) await makeJpeg(path.join(lib, 'in', `p${i}.jpg`), { seed: i + 1, pattern: 'noise' });
  const idx = await engine.call('library.index', { roots: [lib], stages: false });
  expect(idx.added).toBe(n);
  const db = engine.ctx.db;
  db.prepare(`INSERT INTO labels (name, created_at) VALUES ('Beach', 0)`).run();
  db.prepare(`INSERT INTO photo_labels (photo_id, label_id, state, updated_at) SELECT id, (SELECT id FROM labels WHERE name = 'Beach'), 'confirmed', 0 FROM photos`).run();
  return { engine, lib, dest: path.join(lib, 'sorted') };
}

describe('export destination inside a library root', () => {
  it('a copy export is marked and not re-indexed (no duplicates); undo removes the marker and the folder', async () => {
    const { engine, lib, dest } = await library(3);
    const run = await engine.call('export.run', { options: { to: dest, mode: 'copy' } });
    expect(run.created).toBe(3);
    const m = JSON.parse(fs.readFileSync(path.join(dest, '.sift-export'), 'utf8'));
    expect(m).toMatchObject({ sift: 'export', exportId: run.exportId });
    expect(m.undo).toContain(`sift export --undo ${run.exportId}`);
    const again = await engine.call('library.index', { roots: [lib], stages: false });
    expect(again).toMatchObject({ found: 3, added: 0 });
    const photos = await engine.call('library.photos', {});
    expect(photos).toHaveLength(3);
    expect(photos.every((p) => p.path.includes(`${path.sep}in${path.sep}`) && p.duplicateOf === null)).toBe(true);
    await engine.call('export.undo', {});
    expect(fs.existsSync(dest)).toBe(false);                                // it created the folder: marker and folder gone
    expect((await engine.call('library.index', { roots: [lib], stages: false })).added).toBe(0);
  }, 60_000);

  it('without the marker the copies would be indexed (the skip is what prevents it)', async () => {
    const { engine, lib, dest } = await library(2);
    await engine.call('export.run', { options: { to: dest, mode: 'copy' } });
    fs.rmSync(path.join(dest, '.sift-export'));
    const again = await engine.call('library.index', { roots: [lib], stages: false });
    expect(again.added).toBe(2);                                             // the two copies, as duplicates
  }, 60_000);

  it('a move writes no marker: the moved photos are still found by the next scan, at their new place', async () => {
    const { engine, lib, dest } = await library(2);
    const run = await engine.call('export.run', { options: { to: dest, mode: 'move' } });
    expect(run.moved).toBe(2);
    expect(fs.existsSync(path.join(dest, '.sift-export'))).toBe(false);
    const again = await engine.call('library.index', { roots: [lib], stages: false });
    expect(again).toMatchObject({ found: 2, added: 0, missing: 0 });
    expect((await engine.call('library.photos', {})).every((p) => p.path.startsWith(dest) && p.status === 'ok')).toBe(true);
  }, 60_000);
});

// Review H2 (issue #5): the marker must never hide indexed photos, and a move must never land in a marked folder.
describe('the marker never hides library photos', () => {
  const missing = (engine: Awaited<ReturnType<typeof library>>['engine']) =>
    (engine.ctx.db.prepare(`SELECT COUNT(*) n FROM photos WHERE status = 'missing'`).get() as { n: number }).n;
  const labelledOk = (engine: Awaited<ReturnType<typeof library>>['engine']) =>
    (engine.ctx.db.prepare(`SELECT COUNT(*) n FROM photos p JOIN photo_labels l ON l.photo_id = p.id WHERE p.status = 'ok'`).get() as { n: number }).n;

  for (const mode of ['copy', 'hardlink', 'symlink'] as const) {
    it(`a ${mode} export whose destination is the library root writes no marker; nothing goes missing on the next scan`, async () => {
      const { engine, lib } = await library(2);
      const plan = await engine.call('export.plan', { to: lib, mode });
      expect(plan.warnings.join('\n')).toMatch(/no \.sift-export marker is written: the destination .* is a library root/);
      const run = await engine.call('export.run', { exportId: plan.exportId });
      expect(run.created).toBe(2);
      expect(run.warnings.join('\n')).toMatch(/is a library root.*export outside the library/s);
      expect(fs.existsSync(path.join(lib, '.sift-export'))).toBe(false);
      const again = await engine.call('library.index', { roots: [lib], stages: false });
      expect(again.missing).toBe(0);
      expect(missing(engine)).toBe(0);
      expect(labelledOk(engine)).toBe(2);                                    // the labels are on found photos
      if (mode === 'copy') expect(again.added).toBe(2);                      // the copies, indexed as duplicates (the warning says so)
    }, 60_000);
  }

  it('an export into a folder holding indexed photos writes no marker; nothing goes missing', async () => {
    const { engine, lib } = await library(2);
    const into = path.join(lib, 'in');                                      // where the photos are
    const run = await engine.call('export.run', { options: { to: into, mode: 'copy' } });
    expect(run.created).toBe(2);
    expect(run.warnings.join('\n')).toMatch(/already holds indexed photos/);
    expect(fs.existsSync(path.join(into, '.sift-export'))).toBe(false);
    const again = await engine.call('library.index', { roots: [lib], stages: false });
    expect(again.missing).toBe(0);
    expect(missing(engine)).toBe(0);
    expect(labelledOk(engine)).toBe(2);
  }, 60_000);

  it('an export into a folder of the library holding files not indexed yet writes no marker: the next scan finds them', async () => {
    const { engine, lib } = await library(2);
    const into = path.join(lib, 'new');
    await makeJpeg(path.join(into, 'fresh.jpg'), { seed: 99, pattern: 'noise' });   // not scanned yet
    const plan = await engine.call('export.plan', { to: into, mode: 'copy' });
    expect(plan.warnings.join('\n')).toMatch(/inside the library root .* already holds files \(e\.g\. fresh\.jpg\)/);
    const run = await engine.call('export.run', { exportId: plan.exportId });
    expect(run.created).toBe(2);
    expect(run.warnings.join('\n')).toMatch(/already holds files/);
    expect(fs.existsSync(path.join(into, '.sift-export'))).toBe(false);
    const again = await engine.call('library.index', { roots: [lib], stages: false });
    expect(again.missing).toBe(0);
    expect((await engine.call('library.photos', {})).some((p) => p.path === path.join(into, 'fresh.jpg'))).toBe(true);
    // control: an empty or missing folder inside the library is marked (the first test)
  }, 60_000);

  it('copy then move into the same folder: the move is refused (plan and run), nothing goes missing', async () => {
    const { engine, lib, dest } = await library(2);
    // a move planned before the copy export marked the folder: refused when run
    const early = await engine.call('export.plan', { to: dest, mode: 'move' });
    const copy = await engine.call('export.run', { options: { to: dest, mode: 'copy' } });
    expect(copy.warnings).toEqual([]);
    expect(fs.existsSync(path.join(dest, '.sift-export'))).toBe(true);      // safe here: nothing indexed inside
    await expect(engine.call('export.plan', { to: dest, mode: 'move' })).rejects.toThrow(/Cannot move photos into .*sorted.*holds a \.sift-export marker/);
    await expect(engine.call('export.run', { exportId: early.exportId })).rejects.toThrow(/holds a \.sift-export marker/);
    // a marked folder below the destination (the template's folder) is refused too
    const other = path.join(lib, 'other');
    const sub = await engine.call('export.run', { options: { to: path.join(other, 'Beach'), mode: 'copy' } });
    expect(sub.created).toBe(2);
    expect(fs.existsSync(path.join(other, 'Beach', '.sift-export'))).toBe(true);
    await expect(engine.call('export.plan', { to: other, mode: 'move' })).rejects.toThrow(/Cannot move photos into .*other.Beach: .*other.Beach holds/);
    const before = engine.ctx.db.prepare(`SELECT id, path FROM photos ORDER BY id`).all();
    const again = await engine.call('library.index', { roots: [lib], stages: false });
    expect(again).toMatchObject({ missing: 0, added: 0 });
    expect(engine.ctx.db.prepare(`SELECT id, path FROM photos ORDER BY id`).all()).toEqual(before);   // still at their place
    expect(labelledOk(engine)).toBe(2);
    // the way out the message gives: undo the copy export (it removes its marker), then the move is allowed
    await engine.call('export.undo', { exportId: sub.exportId });
    await engine.call('export.undo', { exportId: copy.exportId });
    expect(fs.existsSync(path.join(dest, '.sift-export'))).toBe(false);
    const moved = await engine.call('export.run', { options: { to: dest, mode: 'move' } });
    expect(moved.moved).toBe(2);
    expect(await engine.call('library.index', { roots: [lib], stages: false })).toMatchObject({ missing: 0, added: 0 });
    expect(labelledOk(engine)).toBe(2);
  }, 60_000);

  it('move then copy into the same folder: the copy writes no marker, the moved photos stay found', async () => {
    const { engine, lib, dest } = await library(2);
    const mv = await engine.call('export.run', { options: { to: dest, mode: 'move' } });
    expect(mv.moved).toBe(2);
    const plan = await engine.call('export.plan', { to: dest, mode: 'copy', template: 'again/{label}' });
    expect(plan.warnings.join('\n')).toMatch(/already holds indexed photos/);
    const cp = await engine.call('export.run', { exportId: plan.exportId });
    expect(cp.created).toBe(2);
    expect(fs.existsSync(path.join(dest, '.sift-export'))).toBe(false);
    const again = await engine.call('library.index', { roots: [lib], stages: false });
    expect(again.missing).toBe(0);
    expect(missing(engine)).toBe(0);
    expect(labelledOk(engine)).toBe(2);
    expect((engine.ctx.db.prepare(`SELECT COUNT(*) n FROM photos WHERE status = 'ok' AND path LIKE ?`).get(path.join(dest, 'Beach') + '%') as { n: number }).n).toBe(2);
  }, 60_000);
});
