import type { DB } from '../store/db.ts';

// Owned by the vision part: embeddings per (photo, model set), per-photo tags (COCO class scores), per-photo
// embedding errors, and the selected model set.
export function visionSchema(db: DB): void {
  db.exec(`
    -- a rowid table (not WITHOUT ROWID: its rows of ~1.7 KB are too big for that) so that one model set's vectors
    -- are read in photo order through embeddings_set with little per-row work
    CREATE TABLE embeddings (
      photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
      model_set TEXT NOT NULL,             -- id of the model set that produced the vector
      dim INTEGER NOT NULL,
      vector BLOB NOT NULL,                -- float32 little-endian
      photo_hash TEXT,                     -- photos.hash when embedded: a changed file is re-embedded
      created_at INTEGER NOT NULL,
      UNIQUE (photo_id, model_set)
    );
    CREATE INDEX embeddings_set ON embeddings(model_set, photo_id);
    -- object-presence scores as readable tags (e.g. 'dog' 0.93); only scores >= 0.05 and each photo's top 3
    CREATE TABLE photo_tags (
      photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
      tag TEXT NOT NULL,
      score REAL NOT NULL,
      model_set TEXT NOT NULL,
      PRIMARY KEY (photo_id, tag)
    ) WITHOUT ROWID;
    CREATE INDEX photo_tags_tag ON photo_tags(tag, score);
    CREATE TABLE embedding_errors (
      photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
      model_set TEXT NOT NULL,
      error TEXT NOT NULL,
      photo_updated_at INTEGER NOT NULL,   -- photos.updated_at at failure: retried once the photo changes
      at INTEGER NOT NULL,
      PRIMARY KEY (photo_id, model_set)
    ) WITHOUT ROWID;
    CREATE TABLE vision_settings (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );
  `);
}
