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
