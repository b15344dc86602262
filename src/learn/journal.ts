// The learn journal: every user change to labels is one entry holding the rows in its scope before and
// after, so undo/redo restore exact states, also after a restart (everything lives in SQLite).
import type { DB } from '../store/db.ts';
import type { JournalEntry } from '../api/contract/learn.ts';

export interface Scope { photos: number[]; labels: number[]; clusters: number[] }

interface Snapshot {
  labels: [number, string, number][];
  photo_labels: [number, number, string, number][];
  cluster_names: [number, number][];
  clusters: [number, string, number, number, number, string, number][];
  cluster_members: [number, number | null, number, number][];
}

function fillScope(db: DB, scope: Scope): void {
  db.exec(`CREATE TEMP TABLE IF NOT EXISTS scope_p (id INTEGER PRIMARY KEY);
           CREATE TEMP TABLE IF NOT EXISTS scope_l (id INTEGER PRIMARY KEY);
           CREATE TEMP TABLE IF NOT EXISTS scope_c (id INTEGER PRIMARY KEY);
           DELETE FROM scope_p; DELETE FROM scope_l; DELETE FROM scope_c;`);
  const ins = (t: string, ids: number[]) => { const st = db.prepare(`INSERT OR IGNORE INTO ${t} (id) VALUES (?)`); for (const id of ids) st.run(id); };
  ins('scope_p', scope.photos); ins('scope_l', scope.labels); ins('scope_c', scope.clusters);
}

function snapshot(db: DB, scope: Scope): Snapshot {
  fillScope(db, scope);
  return {
    labels: db.prepare('SELECT id, name, created_at FROM labels WHERE id IN (SELECT id FROM scope_l) ORDER BY id').raw().all() as Snapshot['labels'],
    photo_labels: db.prepare(`SELECT photo_id, label_id, state, updated_at FROM photo_labels
      WHERE photo_id IN (SELECT id FROM scope_p) OR label_id IN (SELECT id FROM scope_l) ORDER BY photo_id, label_id`).raw().all() as Snapshot['photo_labels'],
    cluster_names: db.prepare(`SELECT cluster_id, label_id FROM cluster_names
      WHERE cluster_id IN (SELECT id FROM scope_c) OR label_id IN (SELECT id FROM scope_l) ORDER BY cluster_id`).raw().all() as Snapshot['cluster_names'],
    clusters: db.prepare(`SELECT id, model_set, size, cohesion, rank, representatives, created_at FROM clusters
      WHERE id IN (SELECT id FROM scope_c) ORDER BY id`).raw().all() as Snapshot['clusters'],
    cluster_members: db.prepare(`SELECT photo_id, cluster_id, similarity, border FROM cluster_members
      WHERE photo_id IN (SELECT id FROM scope_p) ORDER BY photo_id`).raw().all() as Snapshot['cluster_members'],
  };
}

function restore(db: DB, scope: Scope, s: Snapshot): void {
  fillScope(db, scope);
  const up = db.prepare('INSERT INTO labels (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name');
  // free names first (an undone rename swap must not collide)
  const free = db.prepare("UPDATE labels SET name = name || ' ~' || id WHERE id = ?");
  for (const [id] of s.labels) free.run(id);
  for (const r of s.labels) up.run(...r);
  const keepL = new Set(s.labels.map((r) => r[0]));
  for (const id of scope.labels) if (!keepL.has(id)) db.prepare('DELETE FROM labels WHERE id = ?').run(id);
  db.exec('DELETE FROM photo_labels WHERE photo_id IN (SELECT id FROM scope_p) OR label_id IN (SELECT id FROM scope_l)');
  const insPl = db.prepare('INSERT OR REPLACE INTO photo_labels (photo_id, label_id, state, updated_at) VALUES (?, ?, ?, ?)');
  for (const r of s.photo_labels) insPl.run(...r);
  const upC = db.prepare(`INSERT INTO clusters (id, model_set, size, cohesion, rank, representatives, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET model_set = excluded.model_set, size = excluded.size, cohesion = excluded.cohesion, rank = excluded.rank,
    representatives = excluded.representatives, created_at = excluded.created_at`);
  for (const r of s.clusters) upC.run(...r);
  const keepC = new Set(s.clusters.map((r) => r[0]));
  for (const id of scope.clusters) if (!keepC.has(id)) db.prepare('DELETE FROM clusters WHERE id = ?').run(id);
  db.exec('DELETE FROM cluster_names WHERE cluster_id IN (SELECT id FROM scope_c) OR label_id IN (SELECT id FROM scope_l)');
  const insCn = db.prepare('INSERT OR REPLACE INTO cluster_names (cluster_id, label_id) VALUES (?, ?)');
  for (const r of s.cluster_names) insCn.run(...r);
  db.exec('DELETE FROM cluster_members WHERE photo_id IN (SELECT id FROM scope_p)');
  const insCm = db.prepare('INSERT OR REPLACE INTO cluster_members (photo_id, cluster_id, similarity, border) VALUES (?, ?, ?, ?)');
  const hasCluster = db.prepare('SELECT 1 FROM clusters WHERE id = ?');
  for (const r of s.cluster_members) insCm.run(r[0], r[1] !== null && hasCluster.get(r[1]) ? r[1] : null, r[2], r[3]);
}

const toEntry = (r: { id: number; at: number; kind: string; summary: string; undone: number }): JournalEntry =>
  ({ id: r.id, at: r.at, kind: r.kind, summary: r.summary, undone: r.undone === 1 });

/**
 * Runs `change` in one transaction and journals it. `change` may add ids to the scope that did not exist
 * before (e.g. a label it creates). Returns null when nothing changed.
 */
export function journaled(db: DB, kind: string, summary: string, scope: Scope, change: (scope: Scope) => void): JournalEntry | null {
  return db.transaction(() => {
    const before = snapshot(db, scope);
    change(scope);
    const after = snapshot(db, scope);
    const b = JSON.stringify(before), a = JSON.stringify(after);
    if (a === b) return null;
    db.prepare('DELETE FROM learn_journal WHERE undone = 1').run();
    const info = db.prepare('INSERT INTO learn_journal (at, kind, summary, scope, before, after) VALUES (?, ?, ?, ?, ?, ?)')
      .run(Date.now(), kind, summary, JSON.stringify(scope), b, a);
    return { id: Number(info.lastInsertRowid), at: Date.now(), kind, summary, undone: false };
  })();
}

export function undo(db: DB): JournalEntry | null {
  return db.transaction(() => {
    const r = db.prepare('SELECT * FROM learn_journal WHERE undone = 0 ORDER BY id DESC LIMIT 1').get() as any;
    if (!r) return null;
    restore(db, JSON.parse(r.scope), JSON.parse(r.before));
    db.prepare('UPDATE learn_journal SET undone = 1 WHERE id = ?').run(r.id);
    return toEntry({ ...r, undone: 1 });
  })();
}

export function redo(db: DB): JournalEntry | null {
  return db.transaction(() => {
    const r = db.prepare('SELECT * FROM learn_journal WHERE undone = 1 ORDER BY id ASC LIMIT 1').get() as any;
    if (!r) return null;
    restore(db, JSON.parse(r.scope), JSON.parse(r.after));
    db.prepare('UPDATE learn_journal SET undone = 0 WHERE id = ?').run(r.id);
    return toEntry({ ...r, undone: 0 });
  })();
}

export function journal(db: DB, limit: number): JournalEntry[] {
  return (db.prepare('SELECT id, at, kind, summary, undone FROM learn_journal ORDER BY id DESC LIMIT ?').all(limit) as any[]).map(toEntry);
}
