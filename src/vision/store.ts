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
  db.prepare(`INSERT INTO embeddings (photo_id, model_set, dim, vector, created_at) VALUES (?, ?, ?, ?, ?)
              ON CONFLICT (photo_id, model_set) DO UPDATE SET dim = excluded.dim, vector = excluded.vector, created_at = excluded.created_at`)
    .run(photoId, modelSet, vector.length, Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength), Date.now());
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

/** The model set with the most vectors (the current one), or null when nothing is embedded. */
export function currentModelSet(db: DB): string | null {
  const row = db.prepare('SELECT model_set AS m FROM embeddings GROUP BY model_set ORDER BY count(*) DESC LIMIT 1').get() as { m: string } | undefined;
  return row?.m ?? null;
}
