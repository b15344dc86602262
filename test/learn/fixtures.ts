// Test fixtures of the learn part: an engine on a fresh temporary database whose photos carry synthetic
// embeddings with planted groups (real SQLite, real worker pool).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../../src/api/engine.ts';
import { saveEmbedding } from '../../src/vision/store.ts';
import { plantedGroups, type SyntheticSet } from '../../src/learn/synthetic.ts';

export interface Fixture { engine: Engine; dbPath: string; ids: number[]; set: SyntheticSet; dir: string }

export function tempDb(): { dir: string; dbPath: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sift-learn-'));
  return { dir, dbPath: path.join(dir, 'sift.db') };
}

/** Inserts `set.n` photo rows (status ok) with the set's rows as embeddings; returns the photo ids in row order. */
export function seed(engine: Engine, set: SyntheticSet, modelSet = 'test-set'): number[] {
  const db = engine.ctx.db;
  const ins = db.prepare(`INSERT INTO photos (path, size, mtime_ms, status, added_at, updated_at) VALUES (?, 1, 0, 'ok', 0, 0)`);
  const ids: number[] = [];
  db.transaction(() => {
    for (let i = 0; i < set.n; i++) {
      const id = Number(ins.run(`/photos/p${i}-${Math.random().toString(36).slice(2)}.jpg`).lastInsertRowid);
      ids.push(id);
      saveEmbedding(db, id, modelSet, set.data.slice(i * set.dim, (i + 1) * set.dim));
    }
  })();
  return ids;
}

export function fixture(opts: Parameters<typeof plantedGroups>[0]): Fixture {
  const { dir, dbPath } = tempDb();
  const engine = new Engine({ dbPath });
  const set = plantedGroups(opts);
  const ids = seed(engine, set);
  return { engine, dbPath, ids, set, dir };
}
