import type { DB } from '../store/db.ts';

// Export journal. One row in `exports` per planned/run export; one row in `export_items` per file operation
// (a photo placement, each sidecar travelling with it, each keyword sidecar written). Every file operation is
// journaled BEFORE it touches the disk (state 'started', with the resolved target and whether the target existed),
// and marked 'done' AFTER it is verified, so a killed export can be resumed or undone from the journal alone.
// export_dirs lists the directories an export created (undo removes them when they are empty).
export function exportSchema(db: DB): void {
  db.exec(`
    CREATE TABLE exports (
      id INTEGER PRIMARY KEY,
      created_at INTEGER NOT NULL,
      finished_at INTEGER,
      dest TEXT NOT NULL,                  -- absolute destination folder
      mode TEXT NOT NULL,                  -- copy | hardlink | symlink | move
      template TEXT NOT NULL,
      options TEXT NOT NULL,               -- JSON of the normalised options
      state TEXT NOT NULL,                 -- planned | running | interrupted | cancelled | failed | done | undoing | undone
      pid INTEGER,                         -- process running it (to tell a killed export from a running one)
      summary TEXT,                        -- JSON of the plan summary
      error TEXT
    );
    CREATE TABLE export_items (
      id INTEGER PRIMARY KEY,
      export_id INTEGER NOT NULL REFERENCES exports(id) ON DELETE CASCADE,
      grp INTEGER NOT NULL,                -- all placements of one photo: executed in order, one after the other
      unit INTEGER NOT NULL,               -- one placement: the photo + its sidecars (+ keyword sidecar)
      seq INTEGER NOT NULL,
      photo_id INTEGER,                    -- no FK: the journal must outlive a photo row
      kind TEXT NOT NULL,                  -- photo | sidecar | keywords
      op TEXT NOT NULL,                    -- copy | hardlink | symlink | move | write
      src TEXT,                            -- absolute source (NULL for 'write')
      dir TEXT NOT NULL,                   -- absolute target folder
      want TEXT NOT NULL,                  -- wanted file name (before collision numbering)
      dst TEXT,                            -- resolved absolute target
      size INTEGER NOT NULL DEFAULT 0,
      expect_hash TEXT,                    -- content hash the target must have (index hash / written content)
      dst_hash TEXT,                       -- hash verified after the operation
      content TEXT,                        -- for 'write': the file content (XMP)
      state TEXT NOT NULL DEFAULT 'pending', -- pending | started | done | skipped | failed | undoing | undone | kept
      result TEXT,                         -- created | identical | renamed ...
      error TEXT
    );
    CREATE INDEX export_items_export ON export_items(export_id, grp, seq);
    CREATE TABLE export_dirs (
      export_id INTEGER NOT NULL REFERENCES exports(id) ON DELETE CASCADE,
      path TEXT NOT NULL,
      PRIMARY KEY (export_id, path)
    ) WITHOUT ROWID;
  `);
}
