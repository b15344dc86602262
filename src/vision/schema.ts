import type { DB } from '../store/db.ts';

// Owned by the vision part (embeddings). Placeholder until the features issue fills it in.
export function visionSchema(db: DB): void {
  db.exec(`
    CREATE TABLE embeddings (
      photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
      model_set TEXT NOT NULL,             -- id of the model set that produced the vector
      dim INTEGER NOT NULL,
      vector BLOB NOT NULL,                -- float32 little-endian
      created_at INTEGER NOT NULL,
      PRIMARY KEY (photo_id, model_set)
    ) WITHOUT ROWID;
  `);
}
