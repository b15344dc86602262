// Embedding storage: float32 little-endian BLOBs keyed by (photo, model set). Vectors of different model
// sets are never mixed: every read names the model set.
import type { DB } from '../store/db.ts';

export interface EmbeddingMatrix {
  modelSet: string;
  dim: number;
  /** photo ids, row i of data belongs to ids[i] */
  ids: number[];
  /** row-major, ids.length × dim */
  data: Float32Array;
}

export function saveEmbedding(db: DB, photoId: number, modelSet: string, vector: Float32Array): void {
  db.prepare(`INSERT INTO embeddings (photo_id, model_set, dim, vector, photo_hash, created_at)
              VALUES (?, ?, ?, ?, (SELECT hash FROM photos WHERE id = ?), ?)
              ON CONFLICT (photo_id, model_set) DO UPDATE SET dim = excluded.dim, vector = excluded.vector,
                photo_hash = excluded.photo_hash, created_at = excluded.created_at`)
    .run(photoId, modelSet, vector.length, Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength), photoId, Date.now());
  db.prepare('DELETE FROM embedding_errors WHERE photo_id = ? AND model_set = ?').run(photoId, modelSet);
}

/** Every vector of one model set (photos with status 'ok' only), as one matrix. */
export function loadEmbeddings(db: DB, modelSet: string): EmbeddingMatrix {
  const rows = db.prepare(`SELECT e.photo_id AS id, e.dim AS dim, e.vector AS v FROM embeddings e JOIN photos p ON p.id = e.photo_id
                           WHERE e.model_set = ? AND p.status = 'ok' ORDER BY e.photo_id`).raw().all(modelSet) as [number, number, Buffer][];
  const dim = rows.length ? rows[0][1] : 0;
  const data = new Float32Array(rows.length * dim);
  const ids = new Array<number>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const [id, d, buf] = rows[i];
    if (d !== dim) throw new Error(`embeddings of model set ${modelSet} have mixed dimensions (${d} vs ${dim})`);
    ids[i] = id;
    // a BLOB's Buffer need not be 4-byte aligned: copy bytes into the (aligned) matrix
    new Uint8Array(data.buffer, i * dim * 4, d * 4).set(buf.subarray(0, d * 4));
  }
  return { modelSet, dim, ids, data };
}

/** One photo's vector in a model set, or null. */
export function loadEmbedding(db: DB, photoId: number, modelSet: string): Float32Array | null {
  const row = db.prepare('SELECT vector AS v, dim FROM embeddings WHERE photo_id = ? AND model_set = ?').get(photoId, modelSet) as { v: Buffer; dim: number } | undefined;
  if (!row) return null;
  const out = new Float32Array(row.dim);
  new Uint8Array(out.buffer).set(row.v.subarray(0, row.dim * 4));
  return out;
}

/**
 * The current model set, the one readers should use: the selected set once it has as many vectors as any
 * other; until then (while a newly selected set is being embedded in the background) the set with the most
 * vectors, so readers keep a complete one. Null when nothing is embedded.
 */
export function currentModelSet(db: DB): string | null {
  const rows = db.prepare('SELECT model_set AS m, count(*) AS n FROM embeddings GROUP BY model_set ORDER BY n DESC, max(created_at) DESC').all() as { m: string; n: number }[];
  if (!rows.length) return null;
  const selected = getSetting(db, 'model_set');
  const sel = rows.find((r) => r.m === selected);
  return sel && sel.n >= rows[0].n ? sel.m : rows[0].m;
}

export function countEmbeddings(db: DB, modelSet: string): number {
  return (db.prepare(`SELECT count(*) AS n FROM embeddings e JOIN photos p ON p.id = e.photo_id WHERE e.model_set = ? AND p.status = 'ok'`).get(modelSet) as { n: number }).n;
}

/** Photos (status 'ok') with no up-to-date vector for the model set and no error recorded since they last changed. */
export function pendingPhotos(db: DB, modelSet: string): number[] {
  return (db.prepare(`SELECT p.id FROM photos p
      LEFT JOIN embeddings e ON e.photo_id = p.id AND e.model_set = ?
      LEFT JOIN embedding_errors x ON x.photo_id = p.id AND x.model_set = ?
      WHERE p.status = 'ok' AND (e.photo_id IS NULL OR e.photo_hash IS NOT p.hash)
        AND (x.photo_id IS NULL OR x.photo_updated_at < p.updated_at)
      ORDER BY p.id`).pluck().all(modelSet, modelSet) as number[]);
}

export function recordEmbeddingError(db: DB, photoId: number, modelSet: string, error: string): void {
  db.prepare(`INSERT INTO embedding_errors (photo_id, model_set, error, photo_updated_at, at)
              VALUES (?, ?, ?, coalesce((SELECT updated_at FROM photos WHERE id = ?), 0), ?)
              ON CONFLICT (photo_id, model_set) DO UPDATE SET error = excluded.error, photo_updated_at = excluded.photo_updated_at, at = excluded.at`)
    .run(photoId, modelSet, error, photoId, Date.now());
}

export function embeddingErrors(db: DB, modelSet: string): { photoId: number; path: string; error: string }[] {
  return db.prepare(`SELECT x.photo_id AS photoId, p.path, x.error FROM embedding_errors x JOIN photos p ON p.id = x.photo_id
                     WHERE x.model_set = ? ORDER BY x.photo_id`).all(modelSet) as { photoId: number; path: string; error: string }[];
}

const TAG_MIN = 0.05;
const TAG_TOP = 3;

/** Stores a photo's class scores as tags: every score >= 0.05 and the top 3. Replaces its previous tags. */
export function saveTags(db: DB, photoId: number, modelSet: string, labels: string[], scores: Float32Array): void {
  const order = [...scores.keys()].sort((a, b) => scores[b] - scores[a]);
  db.prepare('DELETE FROM photo_tags WHERE photo_id = ?').run(photoId);
  const ins = db.prepare('INSERT OR REPLACE INTO photo_tags (photo_id, tag, score, model_set) VALUES (?, ?, ?, ?)');
  order.forEach((k, rank) => {
    if (k < labels.length && (rank < TAG_TOP || scores[k] >= TAG_MIN)) ins.run(photoId, labels[k], scores[k], modelSet);
  });
}

export interface TagScore { tag: string; score: number; photos: number }

/** A photo's tags, best first. */
export function photoTags(db: DB, photoId: number): { tag: string; score: number }[] {
  return db.prepare('SELECT tag, score FROM photo_tags WHERE photo_id = ? ORDER BY score DESC').all(photoId) as { tag: string; score: number }[];
}

/**
 * The best tags of a group of photos (e.g. a cluster): mean score over the group (a photo without the tag
 * counts 0), and how many photos have it with score >= 0.5. Good suggested names for clusters.
 */
export function topTags(db: DB, photoIds: number[], limit = 5): TagScore[] {
  if (!photoIds.length) return [];
  const sums = new Map<string, { s: number; n: number }>();
  const q = db.prepare('SELECT tag, score FROM photo_tags WHERE photo_id = ?').raw();
  for (const id of photoIds) {
    for (const [tag, score] of q.all(id) as [string, number][]) {
      const t = sums.get(tag) ?? { s: 0, n: 0 };
      t.s += score; if (score >= 0.5) t.n++;
      sums.set(tag, t);
    }
  }
  return [...sums.entries()].map(([tag, t]) => ({ tag, score: t.s / photoIds.length, photos: t.n }))
    .sort((a, b) => b.score - a.score).slice(0, limit);
}

export function getSetting(db: DB, key: string): string | null {
  return (db.prepare('SELECT value FROM vision_settings WHERE key = ?').pluck().get(key) as string | undefined) ?? null;
}
export function setSetting(db: DB, key: string, value: string): void {
  db.prepare('INSERT INTO vision_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
}
