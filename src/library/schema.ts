import type { DB } from '../store/db.ts';

// Library index. A photo row is identified by its id for life: a move/rename keeps the id (matched by hash),
// so labels and embeddings survive. status: 'ok' | 'missing' | 'failed' | 'pending'.
export function librarySchema(db: DB): void {
  db.exec(`
    CREATE TABLE roots (
      id INTEGER PRIMARY KEY,
      path TEXT NOT NULL UNIQUE,
      added_at INTEGER NOT NULL
    );
    CREATE TABLE photos (
      id INTEGER PRIMARY KEY,
      root_id INTEGER REFERENCES roots(id) ON DELETE SET NULL,
      path TEXT NOT NULL UNIQUE,          -- absolute path
      size INTEGER NOT NULL,
      mtime_ms INTEGER NOT NULL,
      hash TEXT,                           -- xxh3-128 hex of the full content
      format TEXT,                         -- detected by content: jpeg, png, webp, gif, tiff, avif, heif
      width INTEGER,                       -- after EXIF orientation
      height INTEGER,
      orientation INTEGER,
      taken_at TEXT,                       -- ISO 8601 local time of capture (EXIF DateTimeOriginal, fallbacks)
      gps_lat REAL,
      gps_lon REAL,
      camera_make TEXT,
      camera_model TEXT,
      thumb TEXT,                          -- path of the thumbnail, relative to the thumbnail cache
      status TEXT NOT NULL DEFAULT 'pending',
      error TEXT,                          -- reason when status = 'failed'
      warning TEXT,                        -- set when status = 'ok' but the file is damaged (decoded partially)
      duplicate_of INTEGER REFERENCES photos(id) ON DELETE SET NULL,
      added_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    );
    CREATE INDEX photos_hash ON photos(hash);
    CREATE INDEX photos_status ON photos(status);
    CREATE INDEX photos_root ON photos(root_id);
  `);
}

// 005: the device id (st_dev) of each library folder when it was last reachable with files in it. A folder
// that is empty now *and* on another device than it was is the empty mount point of an unmounted drive: its
// photos are kept as they are (see rootOffline in roots.ts). NULL for folders not scanned since.
export function libraryRootDevice(db: DB): void {
  db.exec('ALTER TABLE roots ADD COLUMN dev TEXT');
}

// 006: thumbnails that may have become unused (the old thumb of a deleted photo or of a photo whose content
// changed), filled by triggers, so that a rescan collects them without listing the whole cache
// (src/library/thumbs.ts).
export function libraryThumbGc(db: DB): void {
  db.exec(`
    CREATE TABLE thumb_gc (thumb TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TRIGGER photos_thumb_gc_delete AFTER DELETE ON photos WHEN OLD.thumb IS NOT NULL
    BEGIN INSERT OR IGNORE INTO thumb_gc (thumb) VALUES (OLD.thumb); END;
    CREATE TRIGGER photos_thumb_gc_update AFTER UPDATE OF thumb ON photos
      WHEN OLD.thumb IS NOT NULL AND (NEW.thumb IS NULL OR NEW.thumb != OLD.thumb)
    BEGIN INSERT OR IGNORE INTO thumb_gc (thumb) VALUES (OLD.thumb); END;
  `);
}
