// SQLite store: one better-sqlite3 connection per process/thread, WAL, foreign keys,
// schema migrations by PRAGMA user_version (see migrations.ts).
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { migrations } from './migrations.ts';

export type DB = Database.Database;

export interface OpenOptions {
  readonly?: boolean;
  /** Skip migrations (for a read-only reader that must not change the schema). */
  migrate?: boolean;
}

/**
 * In the Electron dev app, better-sqlite3 (not an N-API module) loads a copy built for Electron's ABI
 * (scripts/electron-native.mjs); Node (CLI, tests) always uses the installed one (undefined).
 */
export function sqliteNativeBinding(): string | undefined {
  return process.versions.electron ? process.env.SIFT_SQLITE_BINDING || undefined : undefined;
}

export function openDb(file: string, opts: OpenOptions = {}): DB {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file, { readonly: opts.readonly ?? false, nativeBinding: sqliteNativeBinding() });
  db.pragma('busy_timeout = 5000');
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  }
  db.pragma('foreign_keys = ON');
  if (!opts.readonly && opts.migrate !== false) migrate(db);
  return db;
}

/** Applies every migration newer than PRAGMA user_version, each in its own transaction. */
export function migrate(db: DB): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(`This database was written by a newer Sift (schema ${current}, this version knows ${migrations.length}). Update Sift.`);
  }
  for (let v = current; v < migrations.length; v++) {
    const m = migrations[v];
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return migrations.length;
}

/** Runs fn over items in transactions of `size` rows. */
export function batched<T>(db: DB, items: readonly T[], size: number, fn: (item: T) => void): void {
  for (let i = 0; i < items.length; i += size) {
    const slice = items.slice(i, i + size);
    db.transaction(() => { for (const it of slice) fn(it); })();
  }
}
