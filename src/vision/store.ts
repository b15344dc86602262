// Embedding storage: float32 little-endian BLOBs keyed by (photo, model set). Vectors of different model
// sets are never mixed: every read names the model set.
import fs from 'node:fs';
import { createHash } from 'node:crypto';
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
  bumpGeneration(db, modelSet);
}

/** The generation of a set's vectors: it changes with every write (readers use it to see re-embeds). */
export function embeddingGeneration(db: DB, modelSet: string): string {
  return getSetting(db, `gen:${modelSet}`) ?? '0';
}

/** Every write of a set's vectors bumps its generation: the matrix cache file is valid only for its generation. */
function bumpGeneration(db: DB, modelSet: string): void {
  db.prepare(`INSERT INTO vision_settings (key, value) VALUES (?, '1')
              ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1`).run(`gen:${modelSet}`);
}

interface RawMatrix { ids: Float64Array; data: Float32Array; dim: number }

/** Where the matrix cache of a model set lives: next to the database file (none for in-memory databases). */
export function matrixCacheFile(db: DB, modelSet: string): string | null {
  if (db.memory || !db.name || db.name === ':memory:') return null;
  return `${db.name}-vectors-${createHash('sha1').update(modelSet).digest('hex').slice(0, 16)}.f32`;
}

const MAGIC = 0x43455653; // 'SVEC'

function readCache(file: string, stamp: string): RawMatrix | null {
  let fd: number;
  try { fd = fs.openSync(file, 'r'); } catch { return null; }
  try {
    const head = Buffer.alloc(8);
    if (fs.readSync(fd, head, 0, 8, 0) !== 8 || head.readUInt32LE(0) !== MAGIC) return null;
    const hlen = head.readUInt32LE(4);
    const hb = Buffer.alloc(hlen);
    fs.readSync(fd, hb, 0, hlen, 8);
    const h = JSON.parse(hb.toString('utf8')) as { stamp: string; n: number; dim: number };
    if (h.stamp !== stamp) return null;
    const ids = new Float64Array(h.n), data = new Float32Array(h.n * h.dim);
    let off = 8 + hlen;
    for (const arr of [new Uint8Array(ids.buffer), new Uint8Array(data.buffer)]) {
      let got = 0;
      while (got < arr.length) { const k = fs.readSync(fd, arr, got, arr.length - got, off + got); if (k <= 0) return null; got += k; }
      off += arr.length;
    }
    return { ids, data, dim: h.dim };
  } catch { return null; } finally { fs.closeSync(fd); }
}

function writeCache(file: string, stamp: string, m: RawMatrix): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    let hb = Buffer.from(JSON.stringify({ stamp, n: m.ids.length, dim: m.dim }), 'utf8');
    hb = Buffer.concat([hb, Buffer.alloc((8 - ((8 + hb.length) % 8)) % 8, 0x20)]); // keep the arrays 8-byte aligned
    const head = Buffer.alloc(8);
    head.writeUInt32LE(MAGIC, 0); head.writeUInt32LE(hb.length, 4);
    const fd = fs.openSync(tmp, 'w');
    try {
      for (const b of [head, hb, new Uint8Array(m.ids.buffer), new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength)]) {
        let put = 0;
        while (put < b.length) put += fs.writeSync(fd, b, put, b.length - put);
      }
    } finally { fs.closeSync(fd); }
    fs.renameSync(tmp, file);
  } catch { fs.rmSync(tmp, { force: true }); /* a cache only: the database stays the source of truth */ }
}

/** All vectors of a set from SQLite, in photo order, whatever the photos' status. */
function queryMatrix(db: DB, modelSet: string): RawMatrix {
  const rows = db.prepare('SELECT photo_id, vector FROM embeddings WHERE model_set = ? ORDER BY photo_id').raw().all(modelSet) as [number, Buffer][];
  const bytes = rows.length ? rows[0][1].length : 0;
  const data = new Float32Array(rows.length * (bytes / 4));
  const u8 = new Uint8Array(data.buffer);
  const ids = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const [id, buf] = rows[i];
    if (buf.length !== bytes) throw new Error(`embeddings of model set ${modelSet} have mixed dimensions (${buf.length / 4} vs ${bytes / 4})`);
    ids[i] = id;
    // a BLOB's Buffer need not be 4-byte aligned: copy bytes into the (aligned) matrix
    u8.set(buf, i * bytes);
  }
  return { ids, data, dim: bytes / 4 };
}

/**
 * Every vector of one model set (photos with status 'ok' only), as one matrix. Reads a matrix cache file next to
 * the database when it is of the set's current generation (one sequential read instead of one row per photo),
 * else SQLite, and then rewrites the cache.
 */
export function loadEmbeddings(db: DB, modelSet: string): EmbeddingMatrix {
  const { raw, okIds } = db.transaction(() => {
    // one read transaction: the stamp, the ok photos and the vectors are of the same snapshot
    // ok photos whose vector is of their current content (a changed file's old vector is never used)
    const okIds = db.prepare(`SELECT p.id FROM photos p JOIN embeddings e ON e.photo_id = p.id AND e.model_set = ?
                              WHERE p.status = 'ok' AND e.photo_hash IS p.hash`).pluck().all(modelSet) as number[];
    const file = matrixCacheFile(db, modelSet);
    const st = db.prepare('SELECT count(*) AS n, max(rowid) AS m FROM embeddings WHERE model_set = ?').get(modelSet) as { n: number; m: number | null };
    const stamp = `${getSetting(db, `gen:${modelSet}`) ?? 0}|${st.n}|${st.m ?? 0}`;
    let raw = file && st.n > 0 ? readCache(file, stamp) : null;
    if (!raw) {
      raw = queryMatrix(db, modelSet);
      if (file && st.n > 0) writeCache(file, stamp, raw);
    }
    return { raw, okIds };
  })();
  let maxId = 0;
  for (const id of okIds) if (id > maxId) maxId = id;
  const ok = new Uint8Array(maxId + 1);
  for (const id of okIds) ok[id] = 1;
  const { dim } = raw;
  const keep: number[] = [];
  for (let i = 0; i < raw.ids.length; i++) { const id = raw.ids[i]; if (id <= maxId && ok[id]) keep.push(i); }
  if (keep.length === raw.ids.length) return { modelSet, dim, ids: Array.from(raw.ids), data: raw.data };
  const data = new Float32Array(keep.length * dim);
  keep.forEach((i, r) => data.set(raw.data.subarray(i * dim, (i + 1) * dim), r * dim));
  return { modelSet, dim, ids: keep.map((i) => raw.ids[i]), data };
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
  db.prepare('DELETE FROM photo_tags WHERE photo_id = ? AND model_set = ?').run(photoId, modelSet);
  const ins = db.prepare('INSERT OR REPLACE INTO photo_tags (photo_id, tag, score, model_set) VALUES (?, ?, ?, ?)');
  order.forEach((k, rank) => {
    if (k < labels.length && (rank < TAG_TOP || scores[k] >= TAG_MIN)) ins.run(photoId, labels[k], scores[k], modelSet);
  });
}

export interface TagScore { tag: string; score: number; photos: number }

/** A photo's tags, best first. */
export function photoTags(db: DB, photoId: number): { tag: string; score: number }[] {
  return db.prepare('SELECT tag, score FROM photo_tags WHERE photo_id = ? AND model_set IS ? ORDER BY score DESC').all(photoId, currentModelSet(db)) as { tag: string; score: number }[];
}

/**
 * The best tags of a group of photos (e.g. a cluster): mean score over the group (a photo without the tag
 * counts 0), and how many photos have it with score >= 0.5. Good suggested names for clusters.
 */
export function topTags(db: DB, photoIds: number[], limit = 5): TagScore[] {
  if (!photoIds.length) return [];
  const sums = new Map<string, { s: number; n: number }>();
  const q = db.prepare('SELECT tag, score FROM photo_tags WHERE photo_id = ? AND model_set IS ?').raw();
  const ms = currentModelSet(db);
  for (const id of photoIds) {
    for (const [tag, score] of q.all(id, ms) as [string, number][]) {
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
