import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb } from '../src/store/db.ts';
import { migrations } from '../src/store/migrations.ts';

describe('store', () => {
  it('migrates a new database to the latest schema, with WAL and foreign keys', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sift-store-'));
    const db = openDb(path.join(dir, 'a.db'));
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();
    // reopening does not re-run migrations
    const again = openDb(path.join(dir, 'a.db'));
    expect(again.pragma('user_version', { simple: true })).toBe(migrations.length);
    again.close();
  });

  it('refuses a database from a newer schema', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sift-store-'));
    const file = path.join(dir, 'b.db');
    const db = openDb(file);
    db.pragma(`user_version = ${migrations.length + 5}`);
    db.close();
    expect(() => openDb(file)).toThrow(/newer Sift/);
  });
});
