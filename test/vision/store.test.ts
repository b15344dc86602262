import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { openDb } from '../../src/store/db.ts';
import { loadEmbeddings, matrixCacheFile, saveEmbedding, currentModelSet, topTags, saveTags } from '../../src/vision/store.ts';
import { tempDir } from './helpers/setup.ts';

function photos(db: ReturnType<typeof openDb>, n: number): void {
  const ins = db.prepare("INSERT INTO photos (id, path, size, mtime_ms, status, added_at, updated_at) VALUES (?, ?, 0, 0, 'ok', 0, 0)");
  for (let i = 1; i <= n; i++) ins.run(i, `/p/${i}.jpg`);
}
const vec = (a: number, d = 4) => Float32Array.from({ length: d }, (_, j) => a + j / 10);

describe('embedding store', () => {
  it('loads a set as one matrix, never mixing sets; the matrix cache follows every change', () => {
    const dir = tempDir();
    const db = openDb(path.join(dir, 'a.db'));
    photos(db, 5);
    for (let i = 1; i <= 5; i++) { saveEmbedding(db, i, 'A', vec(i)); saveEmbedding(db, i, 'B', vec(-i, 3)); }
    const a = loadEmbeddings(db, 'A');
    expect(a).toMatchObject({ modelSet: 'A', dim: 4, ids: [1, 2, 3, 4, 5] });
    expect(Array.from(a.data.subarray(4, 8))).toEqual(Array.from(vec(2)));
    const cache = matrixCacheFile(db, 'A')!;
    expect(fs.existsSync(cache)).toBe(true);
    // from the cache: the same matrix
    const a2 = loadEmbeddings(db, 'A');
    expect(a2.ids).toEqual(a.ids);
    expect(Array.from(a2.data)).toEqual(Array.from(a.data));
    expect(loadEmbeddings(db, 'B').dim).toBe(3);
    // an updated vector is seen (the cache is stale)
    saveEmbedding(db, 2, 'A', vec(20));
    expect(Array.from(loadEmbeddings(db, 'A').data.subarray(4, 8))).toEqual(Array.from(vec(20)));
    // photos no longer ok, or deleted, are left out
    db.prepare("UPDATE photos SET status = 'missing' WHERE id = 3").run();
    db.prepare('DELETE FROM photos WHERE id = 5').run();
    const a3 = loadEmbeddings(db, 'A');
    expect(a3.ids).toEqual([1, 2, 4]);
    expect(Array.from(a3.data.subarray(8, 12))).toEqual(Array.from(vec(4)));
    // a damaged cache file is ignored
    fs.writeFileSync(cache, 'garbage');
    expect(loadEmbeddings(db, 'A').ids).toEqual([1, 2, 4]);
    // mixed dimensions within a set are refused
    saveEmbedding(db, 4, 'A', vec(1, 5));
    expect(() => loadEmbeddings(db, 'A')).toThrow(/mixed dimensions/);
    expect(loadEmbeddings(db, 'none')).toMatchObject({ dim: 0, ids: [] });
  });

  it('works without a cache for in-memory databases; currentModelSet and topTags', () => {
    const db = openDb(':memory:');
    photos(db, 3);
    expect(currentModelSet(db)).toBeNull();
    for (let i = 1; i <= 3; i++) saveEmbedding(db, i, 'A', vec(i));
    saveEmbedding(db, 1, 'B', vec(1));
    expect(loadEmbeddings(db, 'A').ids).toEqual([1, 2, 3]);
    expect(currentModelSet(db)).toBe('A');
    saveTags(db, 1, 'A', ['cat', 'dog', 'car', 'boat'], Float32Array.from([0.9, 0.1, 0.01, 0.02]));
    saveTags(db, 2, 'A', ['cat', 'dog', 'car', 'boat'], Float32Array.from([0.7, 0.6, 0.01, 0.0]));
    const t = topTags(db, [1, 2], 2);
    expect(t.map((x) => x.tag)).toEqual(['cat', 'dog']);
    expect(t[0]).toMatchObject({ photos: 2 });
    expect(t[0].score).toBeCloseTo(0.8, 5);
  });
});
