import type { DB } from '../store/db.ts';

// Owned by the learn part. Other parts (export, UI) read labels only through the view v_photo_labels:
// one row per (photo, label) the photo effectively carries (confirmed or accepted cluster assignment).
// The learn engine keeps at most one effective label per photo.
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
      state TEXT NOT NULL,                 -- 'confirmed' | 'assigned' (via a named cluster) | 'rejected'
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (photo_id, label_id)
    ) WITHOUT ROWID;
    CREATE INDEX photo_labels_label ON photo_labels(label_id, state);
    -- gallery filters (learn.photos): a label's effective photos and the confirmed photos, in photo id order
    CREATE INDEX photo_labels_effective ON photo_labels(label_id, photo_id) WHERE state IN ('confirmed', 'assigned');
    CREATE INDEX photo_labels_state ON photo_labels(state);
    CREATE VIEW v_photo_labels AS
      SELECT pl.photo_id AS photo_id, l.id AS label_id, l.name AS label
      FROM photo_labels pl JOIN labels l ON l.id = pl.label_id
      WHERE pl.state IN ('confirmed', 'assigned');

    -- The current clustering of the embeddings (one model set). Cluster ids are stable across re-runs
    -- (a new cluster is matched to the previous one it shares most photos with) and never reused.
    CREATE TABLE clusters (
      id INTEGER PRIMARY KEY,
      model_set TEXT NOT NULL,
      size INTEGER NOT NULL,
      cohesion REAL NOT NULL,              -- mean cosine similarity of members to the centroid (whitened space)
      rank INTEGER NOT NULL,               -- display order (0 first): size x cohesion
      representatives TEXT NOT NULL,       -- JSON array of photo ids, most representative first
      created_at INTEGER NOT NULL
    );
    -- Every clustered photo: its cluster (NULL = unclustered outlier) and its similarity to the centroid.
    CREATE TABLE cluster_members (
      photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
      cluster_id INTEGER REFERENCES clusters(id) ON DELETE SET NULL,
      similarity REAL NOT NULL,
      border INTEGER NOT NULL DEFAULT 0    -- 1 when the photo is near a second cluster (review queue)
    );
    CREATE INDEX cluster_members_cluster ON cluster_members(cluster_id);
    -- Which label the user gave a cluster (for display; the photos carry the label in photo_labels).
    CREATE TABLE cluster_names (
      cluster_id INTEGER PRIMARY KEY,
      label_id INTEGER NOT NULL REFERENCES labels(id) ON DELETE CASCADE
    );

    -- Journal of user changes (undo/redo, also after a restart). Each entry stores the rows of
    -- labels / photo_labels / cluster_names in its scope before and after the change.
    CREATE TABLE learn_journal (
      id INTEGER PRIMARY KEY,
      at INTEGER NOT NULL,
      kind TEXT NOT NULL,
      summary TEXT NOT NULL,
      scope TEXT NOT NULL,                 -- JSON {photos:number[], labels:number[], clusters:number[]}
      before TEXT NOT NULL,                -- JSON snapshot
      after TEXT NOT NULL,                 -- JSON snapshot
      undone INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE learn_meta (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );
  `);
}
