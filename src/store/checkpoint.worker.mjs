// Worker of the Checkpointer (checkpoint.ts): runs SQLite WAL checkpoints on a connection of its own, so that their
// fsync blocks this thread and not the engine's. Plain JavaScript on purpose: it starts in milliseconds (no tsx).
import Database from 'better-sqlite3';

let db = null;
let file = null;

/**
 * { file, nativeBinding? } -> { busy, log, checkpointed } of `PRAGMA wal_checkpoint(PASSIVE)` on `file` (the connection is kept for
 * the next task); { close: true } closes the connection.
 */
export default function checkpoint(task) {
  if (task.close || (db && file !== task.file)) {
    db?.close();
    db = null; file = null;
    if (task.close) return null;
  }
  if (!db) {
    // nativeBinding: in Electron, the copy of better-sqlite3 built for its ABI (decided by the engine, as openDb does)
    db = new Database(task.file, { fileMustExist: true, nativeBinding: task.nativeBinding || undefined });
    db.pragma('busy_timeout = 1000');
    file = task.file;
  }
  return db.pragma('wal_checkpoint(PASSIVE)')[0];
}
