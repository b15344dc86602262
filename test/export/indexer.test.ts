// With the real indexer: photos indexed through the engine, labelled, moved by an export, re-indexed, undone,
// re-indexed. The index follows the files (same ids, labels kept, nothing missing, no duplicates).
import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { Engine } from '../../src/api/engine.ts';
import { makeJpeg } from '../helpers/fixtures.ts';
import { setLabel, snapshot, tmp, listFiles } from './helpers.ts';

describe('export with the real indexer', () => {
  it('a move keeps ids and labels through re-indexing, and undo brings the library back', async () => {
    const dir = tmp();
    const lib = path.join(dir, 'lib'); const dest = path.join(dir, 'out');
    for (let i = 0; i < 4; i++) await makeJpeg(path.join(lib, `p${i}.jpg`), { seed: i + 1, pattern: 'noise', takenAt: `202${i}-05-06T07:08:09` });
    const e = new Engine({ dbPath: path.join(dir, 'sift.db') });
    try {
      const idx = await e.call('library.index', { roots: [lib] });
      expect(idx.added).toBe(4);
      const photos = await e.call('library.photos', {});
      const byName = new Map(photos.map((p) => [path.basename(p.path), p.id]));
      setLabel(e.ctx.db, byName.get('p0.jpg')!, 'Beach');
      setLabel(e.ctx.db, byName.get('p1.jpg')!, 'Beach');
      setLabel(e.ctx.db, byName.get('p2.jpg')!, 'Snow');
      const before = snapshot(lib, dest);
      const run = await e.call('export.run', { options: { to: dest, mode: 'move', template: '{label}/{yyyy}', unlabeled: 'skip' } });
      expect(run.moved).toBe(3);
      expect(listFiles(dest)).toEqual(['Beach/2020/p0.jpg', 'Beach/2021/p1.jpg', 'Snow/2022/p2.jpg']);
      await e.call('library.index', {});
      const after = await e.call('library.photos', {});
      expect(after.map((p) => [p.id, path.relative(dir, p.path), p.status]).sort()).toEqual([
        [byName.get('p0.jpg'), 'out/Beach/2020/p0.jpg', 'ok'], [byName.get('p1.jpg'), 'out/Beach/2021/p1.jpg', 'ok'],
        [byName.get('p2.jpg'), 'out/Snow/2022/p2.jpg', 'ok'], [byName.get('p3.jpg'), 'lib/p3.jpg', 'ok'],
      ].sort());
      const labels = e.ctx.db.prepare(`SELECT photo_id, label FROM v_photo_labels ORDER BY photo_id`).all();
      expect(labels).toHaveLength(3);
      await e.call('export.undo', {});
      expect(snapshot(lib, dest)).toEqual(before);
      const again = await e.call('library.index', {});
      expect(again.added + again.moved + again.missing).toBe(0);
      expect((await e.call('library.photos', {})).every((p) => p.path.startsWith(lib) && p.status === 'ok')).toBe(true);
    } finally { e.close(); }
  }, 60_000);
});
