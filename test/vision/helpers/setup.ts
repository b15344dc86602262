// Shared set-up of the vision tests: a temp folder with tiny models, a real SQLite database, photo rows.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { openDb, type DB } from '../../../src/store/db.ts';
import { writeTinyModels } from './tiny-onnx.ts';

export function tempDir(prefix = 'sift-vision-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface VisionFixture { dir: string; modelsDir: string; userDir: string; db: DB }

export function visionFixture(): VisionFixture {
  const dir = tempDir();
  const modelsDir = path.join(dir, 'models');
  writeTinyModels(modelsDir);
  const db = openDb(path.join(dir, 'sift.db'));
  return { dir, modelsDir, userDir: path.join(dir, 'data', 'models'), db };
}

/** Inserts a photo row the way the indexer would (status ok, content hash). */
export function addPhoto(db: DB, file: string, status = 'ok'): number {
  const hash = fs.existsSync(file) ? crypto.createHash('sha1').update(fs.readFileSync(file)).digest('hex') : null;
  const now = Date.now();
  return Number(db.prepare(`INSERT INTO photos (path, size, mtime_ms, hash, status, added_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
    .run(path.resolve(file), fs.existsSync(file) ? fs.statSync(file).size : 0, now, hash, status, now, now).lastInsertRowid);
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export const noJob = (signal = new AbortController().signal) => ({ jobId: 'test', signal, progress: () => {} });
