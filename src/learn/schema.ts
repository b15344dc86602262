import type { DB } from '../store/db.ts';

// Owned by the learn part. Other parts (export, UI) read labels only through the view v_photo_labels:
// one row per (photo, label) the photo effectively carries (confirmed or accepted assignment).
export function learnSchema(db: DB): void {
  db.exec(`
    CREATE TABLE labels (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE COLLATE NOCASE,
      created_at INTEGER NOT NULL
    );
    CREATE TABLE photo_labels (
      photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
      label_id INTEGER NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
      state TEXT NOT NULL,                 -- 'confirmed' | 'assigned' | 'rejected'
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (photo_id, label_id)
    ) WITHOUT ROWID;
    CREATE VIEW v_photo_labels AS
      SELECT pl.photo_id AS photo_id, l.id AS label_id, l.name AS label
      FROM photo_labels pl JOIN labels l ON l.id = pl.label_id
      WHERE pl.state IN ('confirmed', 'assigned');
  `);
}
