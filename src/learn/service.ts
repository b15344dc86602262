// The learning loop over the store: clusters, labels, corrections (journaled), classifier and review queue.
// Heavy work (PCA features, clustering, training + prediction) runs in a piscina worker; this class keeps
// the derived state (features, the current model and its predictions) in memory and the truth in SQLite.
import type { Piscina } from 'piscina';
import type { DB } from '../store/db.ts';
import { ApiError } from '../api/errors.ts';
import type {
  ChangeResult, ClusterInfo, ClusterList, ClusterSummary, JournalEntry, LabelInfo, Suggestion, SuggestionPage,
} from '../api/contract/learn.ts';
import type { SiftEvent } from '../api/contract/index.ts';
import { currentModelSet, embeddingGeneration, loadEmbeddings } from '../vision/store.ts';
import { createPool } from '../util/workers.ts';
import { journaled, undo as undoJournal, redo as redoJournal, journal as listJournal, type Scope } from './journal.ts';
import type { ClusterOut } from './cluster.ts';
import type { Model } from './classifier.ts';
import type { FeaturesOut, LearnTask, RetrainOut, TrainOut } from './learn.worker.ts';
import { LP_K, LP_MAX_PHOTOS, type CrossFitted, type KnnGraph } from './propagate.ts';
import type { PropagateTask } from './propagate.worker.ts';

export const SUGGEST_THRESHOLD = 0.5;
/** weight of a cluster-assigned photo as a training example (a confirmed one weighs 1) */
export const ASSIGNED_WEIGHT = 0.5;
/** prediction of a large library is split over this many worker threads (the pool's size) */
export const PREDICT_THREADS = 2;

interface Features {
  key: string;
  modelSet: string;
  ids: number[];
  rowOf: Map<number, number>;
  cluster: SharedArrayBuffer; clusterDim: number; captured: SharedArrayBuffer;
  classify: SharedArrayBuffer; classifyDim: number;
}

interface Trained {
  version: number;
  featuresKey: string;
  classes: number[];              // class index -> label id
  model: Model;
  out: TrainOut['predictions'];
  trainedOn: SuggestionPage['trainedOn'];
  ms: number;
}

export interface LearnDeps { db: DB; emit(e: SiftEvent): void }

const now = () => Date.now();

export class LearnService {
  private pool: Piscina | null = null;
  private lpPool: Piscina | null = null;
  private feats: Features | null = null;
  private featsPending: Promise<Features> | null = null;
  private trained: Trained | null = null;
  private training: { version: number; p: Promise<Trained> } | null = null;
  /** bumped on every label change; the model is current when trained.version === version */
  private version = 0;
  private closed = false;
  /** last retrain time in ms (diagnostics, bench): fit + predict in the workers, fit alone, the parallel predict phase, wall from the fit's dispatch */
  lastTrainMs = 0;
  lastFitMs = 0;
  lastPredictMs = 0;
  lastTrainWallMs = 0;

  constructor(private deps: LearnDeps) {}

  private get db(): DB { return this.deps.db; }

  /** Tasks running in the pools: close() lets them finish (a worker terminated in the middle of an
   *  onnxruntime call aborts the whole process), then destroys the pools. */
  private inflight = new Set<Promise<unknown>>();

  close(): Promise<void> {
    this.closed = true;
    const p = this.pool, q = this.lpPool;
    this.pool = null; this.lpPool = null;
    return Promise.allSettled([...this.inflight]).then(async () => { await Promise.all([p?.destroy(), q?.destroy()]); });
  }

  private track<T>(t: Promise<T>): Promise<T> {
    this.inflight.add(t);
    const done = () => { this.inflight.delete(t); };
    t.then(done, done);
    return t;
  }

  /** Runs a task on one of the two pools (created on first use), tracked so that close() can wait for it. */
  private runOn<T>(which: 'pool' | 'lpPool', task: unknown): Promise<T> {
    if (this.closed) return Promise.reject(new ApiError('The engine is closing', 'conflict'));
    let pool = this[which];
    if (!pool) {
      const file = which === 'pool' ? new URL('./learn.worker.ts', import.meta.url) : new URL('./propagate.worker.ts', import.meta.url);
      pool = this[which] = createPool(file, { threads: PREDICT_THREADS, idleTimeout: 10_000 });
      // a task still running when the engine closes is dropped, never a crash
      pool.on('error', () => undefined);
    }
    return this.track(pool.run(task) as Promise<T>);
  }

  private run<T>(task: LearnTask): Promise<T> { return this.runOn<T>('pool', task); }

  // ---------- features ----------

  private modelSet(): string {
    const ms = currentModelSet(this.db);
    if (!ms) throw new ApiError('No photo has an embedding yet: index the library with embeddings first (sift index <folder>).', 'conflict');
    return ms;
  }

  /** Embeddings or photos changed (events of this engine): the next features() re-checks the store. */
  invalidate(): void { this.dataChecked = -Infinity; }
  private dataChecked = -Infinity;

  async features(): Promise<Features> {
    // The store checks below scan indexes (O(photos)); within 30 s of the last check, and with no change
    // event in between, the cached features are current. Writes by another process are seen after 30 s.
    if (this.feats && performance.now() - this.dataChecked < 30_000) return this.feats;
    const checked = performance.now();
    const ms = this.modelSet();
    // cheap change detection (index-only counts; a changed photo bumps photos.updated_at and is re-embedded)
    const e = this.db.prepare('SELECT count(*) AS n FROM embeddings WHERE model_set = ?').get(ms) as { n: number };
    const p = this.db.prepare("SELECT count(*) AS n, max(updated_at) AS t FROM photos WHERE status = 'ok'").get() as { n: number; t: number | null };
    const key = `${ms}:${embeddingGeneration(this.db, ms)}:${e.n}:${p.n}:${p.t}`;
    if (this.feats?.key === key) { this.dataChecked = checked; return this.feats; }
    if (this.featsPending) { const f = await this.featsPending; if (f.key === key) return f; }
    const m = loadEmbeddings(this.db, ms);
    if (m.ids.length === 0) throw new ApiError('No photo with an embedding: the library is empty or not embedded yet.', 'conflict');
    const sab = new SharedArrayBuffer(m.data.byteLength);
    new Float32Array(sab).set(m.data);
    this.featsPending = this.run<FeaturesOut>({ kind: 'features', embeddings: sab, n: m.ids.length, dim: m.dim }).then((o) => {
      const f: Features = { key, modelSet: ms, ids: m.ids, rowOf: new Map(m.ids.map((id, i) => [id, i])), ...o };
      this.feats = f;
      this.dataChecked = checked;
      return f;
    });
    try { return await this.featsPending; } finally { this.featsPending = null; }
  }

  // ---------- clustering ----------

  async cluster(opts: { minClusterSize?: number; sampleSize?: number } = {}): Promise<ClusterSummary> {
    const t0 = performance.now();
    const f = await this.features();
    // the label propagation's graph is built meanwhile on the other pool (it is needed once labels exist)
    if (f.ids.length <= this.lpMaxPhotos && f.ids.length >= 3) void this.knn(f).catch(() => undefined);
    const labeled = new Set((this.db.prepare("SELECT DISTINCT photo_id FROM photo_labels WHERE state IN ('confirmed','assigned')").raw().all() as [number][]).map((r) => r[0]));
    const rowsArr: number[] = [];
    for (let i = 0; i < f.ids.length; i++) if (!labeled.has(f.ids[i])) rowsArr.push(i);
    if (rowsArr.length === 1) throw new ApiError('Clustering needs at least 2 unlabeled photos with embeddings; there is 1.', 'conflict');
    const rows = Int32Array.from(rowsArr);
    const out: ClusterOut = rows.length
      ? await this.run<ClusterOut>({ kind: 'cluster', features: f.cluster, captured: f.captured, n: f.ids.length, d: f.clusterDim, rows, opts: { minClusterSize: opts.minClusterSize, sampleSize: opts.sampleSize } })
      : { assign: new Int32Array(0), similarity: new Float32Array(0), border: new Uint8Array(0), clusters: [], info: { sample: 0, cutClusters: 0, silhouette: 0 } };
    const db = this.db;
    let kept = 0;
    db.transaction(() => {
      // previous unnamed clusters and their members, for id matching
      const prevMembers = db.prepare(`SELECT cm.photo_id, cm.cluster_id FROM cluster_members cm
        WHERE cm.cluster_id IS NOT NULL AND cm.cluster_id NOT IN (SELECT cluster_id FROM cluster_names)`).raw().all() as [number, number][];
      const prevOf = new Map(prevMembers);
      const prevSize = new Map<number, number>();
      for (const [, c] of prevMembers) prevSize.set(c, (prevSize.get(c) ?? 0) + 1);
      const K = out.clusters.length;
      const overlap = new Map<string, number>();
      for (let i = 0; i < rows.length; i++) {
        const c = out.assign[i];
        if (c < 0) continue;
        const p = prevOf.get(f.ids[rows[i]]);
        if (p === undefined) continue;
        const k = `${c}:${p}`;
        overlap.set(k, (overlap.get(k) ?? 0) + 1);
      }
      const pairs = [...overlap].map(([k, n]) => { const [c, p] = k.split(':').map(Number); return { c, p, n, j: n / (out.clusters[c].size + (prevSize.get(p) ?? 0) - n) }; })
        .filter((x) => x.j >= 0.3).sort((a, b) => b.j - a.j || b.n - a.n);
      const idOf = new Int32Array(K).fill(-1);
      const usedPrev = new Set<number>();
      for (const x of pairs) if (idOf[x.c] < 0 && !usedPrev.has(x.p)) { idOf[x.c] = x.p; usedPrev.add(x.p); kept++; }
      let next = Math.max(
        Number((db.prepare("SELECT value FROM learn_meta WHERE key = 'next_cluster_id'").get() as { value: string } | undefined)?.value ?? 1),
        ((db.prepare('SELECT max(id) AS m FROM clusters').get() as { m: number | null }).m ?? 0) + 1);
      for (let c = 0; c < K; c++) if (idOf[c] < 0) idOf[c] = next++;
      db.prepare("INSERT INTO learn_meta (key, value) VALUES ('next_cluster_id', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(next));
      db.prepare('DELETE FROM clusters WHERE id NOT IN (SELECT cluster_id FROM cluster_names)').run();
      const order = out.clusters.map((c, i) => ({ i, s: c.size * c.cohesion })).sort((a, b) => b.s - a.s);
      const rankOf = new Int32Array(K);
      order.forEach((o, r) => { rankOf[o.i] = r; });
      const insC = db.prepare('INSERT INTO clusters (id, model_set, size, cohesion, rank, representatives, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
      out.clusters.forEach((c, i) => insC.run(idOf[i], f.modelSet, c.size, c.cohesion, rankOf[i], JSON.stringify(c.representatives.map((r) => f.ids[rows[r]])), now()));
      const insM = db.prepare('INSERT OR REPLACE INTO cluster_members (photo_id, cluster_id, similarity, border) VALUES (?, ?, ?, ?)');
      for (let i = 0; i < rows.length; i++) insM.run(f.ids[rows[i]], out.assign[i] >= 0 ? idOf[out.assign[i]] : null, out.similarity[i], out.border[i]);
      db.prepare("INSERT INTO learn_meta (key, value) VALUES ('clustered_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(now()));
    })();
    this.deps.emit({ type: 'clusters.changed' });
    let unclustered = 0;
    for (let i = 0; i < rows.length; i++) if (out.assign[i] < 0) unclustered++;
    return { modelSet: f.modelSet, photos: rows.length, clusters: out.clusters.length, unclustered, kept, seconds: (performance.now() - t0) / 1000 };
  }

  clusters(includeNamed = true): ClusterList {
    const db = this.db;
    const live = new Map((db.prepare(`SELECT cm.cluster_id, count(*), sum(CASE WHEN e.photo_id IS NULL THEN 1 ELSE 0 END)
      FROM cluster_members cm LEFT JOIN (SELECT DISTINCT photo_id FROM photo_labels WHERE state IN ('confirmed','assigned')) e ON e.photo_id = cm.photo_id
      WHERE cm.cluster_id IS NOT NULL GROUP BY cm.cluster_id`).raw().all() as [number, number, number][]).map((r) => [r[0], { size: r[1], unlabeled: r[2] }]));
    const rows = db.prepare(`SELECT c.id, c.size, c.cohesion, c.rank, c.representatives, l.id AS lid, l.name AS lname
      FROM clusters c LEFT JOIN cluster_names cn ON cn.cluster_id = c.id LEFT JOIN labels l ON l.id = cn.label_id`).all() as any[];
    const hasTags = !!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'photo_tags'").get();
    const tagQ = hasTags ? db.prepare(`SELECT t.tag AS tag, sum(t.score) AS s FROM photo_tags t JOIN cluster_members cm ON cm.photo_id = t.photo_id
      WHERE cm.cluster_id = ? GROUP BY t.tag ORDER BY s DESC LIMIT 1`) : null;
    const list: (ClusterInfo & { rank: number })[] = [];
    for (const r of rows) {
      const l = live.get(r.id) ?? { size: 0, unlabeled: 0 };
      if (l.size === 0) continue;
      const label = r.lid != null ? { id: r.lid as number, name: r.lname as string } : null;
      if (!includeNamed && label) continue;
      let suggestedName: string | null = null;
      if (tagQ) {
        const t = tagQ.get(r.id) as { tag: string; s: number } | undefined;
        if (t && t.s >= 0.3 * l.size) suggestedName = t.tag;
      }
      if (!suggestedName && this.trained && this.feats) suggestedName = this.majorityPrediction(r.id);
      list.push({ id: r.id, size: l.size, cohesion: r.cohesion, unlabeled: l.unlabeled, representatives: JSON.parse(r.representatives), label, suggestedName, rank: r.rank });
    }
    list.sort((a, b) => (a.label ? 1 : 0) - (b.label ? 1 : 0) || a.rank - b.rank);
    const unclustered = (db.prepare(`SELECT count(*) AS n FROM cluster_members cm WHERE cm.cluster_id IS NULL
      AND cm.photo_id NOT IN (SELECT photo_id FROM photo_labels WHERE state IN ('confirmed','assigned'))`).get() as { n: number }).n;
    const at = db.prepare("SELECT value FROM learn_meta WHERE key = 'clustered_at'").get() as { value: string } | undefined;
    return {
      modelSet: this.feats?.modelSet ?? (db.prepare('SELECT model_set AS m FROM clusters ORDER BY id DESC LIMIT 1').get() as { m: string } | undefined)?.m ?? null,
      clusters: list.map(({ rank: _r, ...c }) => c),
      unclustered,
      clusteredAt: at ? Number(at.value) : null,
    };
  }

  private majorityPrediction(clusterId: number): string | null {
    const t = this.trained!, f = this.feats!;
    if (t.featuresKey !== f.key) return null;
    const ids = (this.db.prepare('SELECT photo_id FROM cluster_members WHERE cluster_id = ?').raw().all(clusterId) as [number][]).map((r) => r[0]);
    const votes = new Map<number, number>();
    for (const id of ids) {
      const row = f.rowOf.get(id);
      if (row === undefined || t.out.prob[row] < SUGGEST_THRESHOLD) continue;
      votes.set(t.out.best[row], (votes.get(t.out.best[row]) ?? 0) + 1);
    }
    let best = -1, n = 0;
    for (const [c, v] of votes) if (v > n) { best = c; n = v; }
    if (best < 0 || n < ids.length / 2) return null;
    return (this.db.prepare('SELECT name FROM labels WHERE id = ?').get(t.classes[best]) as { name: string } | undefined)?.name ?? null;
  }

  clusterPhotos(id: number, offset: number, limit: number): { total: number; photoIds: number[] } {
    this.requireCluster(id);
    const total = (this.db.prepare('SELECT count(*) AS n FROM cluster_members WHERE cluster_id = ?').get(id) as { n: number }).n;
    const photoIds = (this.db.prepare('SELECT photo_id FROM cluster_members WHERE cluster_id = ? ORDER BY similarity DESC, photo_id LIMIT ? OFFSET ?').raw().all(id, limit, offset) as [number][]).map((r) => r[0]);
    return { total, photoIds };
  }

  /**
   * Exact, paged photo filters for the gallery. 'label': photos effectively carrying the label (v_photo_labels);
   * 'unlabeled': ok photos with no effective label; 'confirmed': user-confirmed photos (of the label if given);
   * 'suggested': photos without an effective label whose current prediction (>= threshold) is the label (any label
   * when none is given), most confident first. The others are ordered by photo id.
   */
  async photos(filter: 'label' | 'unlabeled' | 'suggested' | 'confirmed', ref: string | number | undefined, offset: number, limit: number): Promise<{ total: number; photoIds: number[] }> {
    const db = this.db;
    const l = ref !== undefined ? this.resolveLabel(ref) : null;
    const ids = (sql: string, ...args: unknown[]) => db.prepare(sql).pluck().all(...args) as number[];
    const count = (sql: string, ...args: unknown[]) => db.prepare(sql).pluck().get(...args) as number;
    if (filter === 'label') {
      if (!l) throw new ApiError('The "label" filter needs a label (name or id)');
      // partial index photo_labels_effective (label_id, photo_id): an ordered range, no sort
      const where = "FROM photo_labels WHERE label_id = ? AND state IN ('confirmed','assigned')";
      return { total: count(`SELECT count(*) ${where}`, l.id), photoIds: ids(`SELECT photo_id ${where} ORDER BY photo_id LIMIT ? OFFSET ?`, l.id, limit, offset) };
    }
    if (filter === 'confirmed') {
      // photo_labels_label (label_id, state, photo_id) / photo_labels_state (state, photo_id): ordered ranges
      if (l) {
        const where = "FROM photo_labels WHERE label_id = ? AND state = 'confirmed'";
        return { total: count(`SELECT count(*) ${where}`, l.id), photoIds: ids(`SELECT photo_id ${where} ORDER BY photo_id LIMIT ? OFFSET ?`, l.id, limit, offset) };
      }
      const where = "FROM photo_labels WHERE state = 'confirmed'";
      return { total: count(`SELECT count(DISTINCT photo_id) ${where}`), photoIds: ids(`SELECT DISTINCT photo_id ${where} ORDER BY photo_id LIMIT ? OFFSET ?`, limit, offset) };
    }
    if (filter === 'unlabeled') {
      // total = ok photos - ok photos with an effective label (index counts, no probe per photo); the page walks
      // photos_status (status, id) in id order, each photo probed in the photo_labels primary key
      const total = count("SELECT count(*) FROM photos WHERE status = 'ok'")
        - count(`SELECT count(DISTINCT pl.photo_id) FROM photo_labels pl JOIN photos p ON p.id = pl.photo_id
            WHERE pl.state IN ('confirmed','assigned') AND p.status = 'ok'`);
      const page = ids(`SELECT p.id FROM photos p WHERE p.status = 'ok'
        AND NOT EXISTS (SELECT 1 FROM photo_labels pl WHERE pl.photo_id = p.id AND pl.state IN ('confirmed','assigned'))
        ORDER BY p.id LIMIT ? OFFSET ?`, limit, offset);
      return { total, photoIds: page };
    }
    // suggested: the in-memory predictions of the current model (no embeddings yet: nothing is suggested)
    // (currentModelSet is an O(photos) scan: rely on the cached features' check instead)
    let t: Trained | null;
    try { t = await this.ensureModel(); } catch (e) {
      if (e instanceof ApiError && e.code === 'conflict' && !this.feats) return { total: 0, photoIds: [] };
      throw e;
    }
    const f = this.feats!;
    if (!t || t.classes.length === 0) return { total: 0, photoIds: [] };
    const want = l ? t.classes.indexOf(l.id) : -1;
    if (l && want < 0) return { total: 0, photoIds: [] };
    // the sorted list is kept until the next label change or model (the gallery pages through it)
    const key = `${this.version}:${l?.id ?? ''}`;
    let list = this.suggestedCache?.t === t && this.suggestedCache.key === key ? this.suggestedCache.rows : null;
    if (!list) {
      const n = f.ids.length;
      const skip = new Uint8Array(n);
      const mark = (id: number) => { const r = f.rowOf.get(id); if (r !== undefined) skip[r] = 1; };
      ids("SELECT photo_id FROM photo_labels WHERE state IN ('confirmed','assigned')").forEach(mark);
      // photos that are no longer ok (two ranges of the photos_status index; usually few)
      ids("SELECT id FROM photos WHERE status < 'ok' OR status > 'ok'").forEach(mark);
      const rejected = new Map<number, number[]>();
      for (const [p, q] of db.prepare("SELECT photo_id, label_id FROM photo_labels WHERE state = 'rejected'" + (l ? ' AND label_id = ?' : ''))
        .raw().all(...(l ? [l.id] : [])) as [number, number][]) {
        const r = f.rowOf.get(p);
        if (r !== undefined) { const a = rejected.get(r); if (a) a.push(q); else rejected.set(r, [q]); }
      }
      const { best, prob } = t.out;
      const keep: number[] = [];
      for (let row = 0; row < n; row++) {
        const c = best[row];
        if (c < 0 || skip[row] || prob[row] < SUGGEST_THRESHOLD || (want >= 0 && c !== want)) continue;
        if (rejected.get(row)?.includes(t.classes[c])) continue;
        keep.push(row);
      }
      list = Int32Array.from(keep).sort((a, b) => prob[b] - prob[a] || f.ids[a] - f.ids[b]);
      this.suggestedCache = { t, key, rows: list };
    }
    return { total: list.length, photoIds: Array.from(list.subarray(offset, offset + limit), (r) => f.ids[r]) };
  }

  private suggestedCache: { t: Trained; key: string; rows: Int32Array } | null = null;

  // ---------- labels ----------

  photoLabels(photos?: number[]): { photoId: number; labelId: number; label: string; state: 'confirmed' | 'assigned' }[] {
    const m = this.effective();
    const ids = photos ? this.requirePhotos(photos) : [...m.keys()].sort((a, b) => a - b);
    const out: { photoId: number; labelId: number; label: string; state: 'confirmed' | 'assigned' }[] = [];
    for (const id of ids) { const e = m.get(id); if (e) out.push({ photoId: id, ...e }); }
    return out;
  }

  labels(): LabelInfo[] {
    const rows = this.db.prepare(`SELECT l.id, l.name,
        sum(CASE WHEN pl.state = 'confirmed' THEN 1 ELSE 0 END) AS confirmed,
        sum(CASE WHEN pl.state = 'assigned' THEN 1 ELSE 0 END) AS assigned,
        sum(CASE WHEN pl.state = 'rejected' THEN 1 ELSE 0 END) AS rejected
      FROM labels l LEFT JOIN photo_labels pl ON pl.label_id = l.id GROUP BY l.id ORDER BY l.name`).all() as any[];
    const sugg = this.suggestedCounts();
    return rows.map((r) => ({ id: r.id, name: r.name, confirmed: r.confirmed ?? 0, assigned: r.assigned ?? 0, suggested: sugg.get(r.id) ?? 0, rejected: r.rejected ?? 0 }));
  }

  private suggestedCounts(): Map<number, number> {
    const m = new Map<number, number>();
    const t = this.trained, f = this.feats;
    if (!t || !f || t.featuresKey !== f.key) return m;
    const current = this.effective();
    for (let row = 0; row < f.ids.length; row++) {
      if (t.out.prob[row] < SUGGEST_THRESHOLD || t.out.best[row] < 0) continue;
      const lid = t.classes[t.out.best[row]];
      if (current.get(f.ids[row])?.labelId === lid) continue;
      m.set(lid, (m.get(lid) ?? 0) + 1);
    }
    return m;
  }

  resolveLabel(ref: string | number): { id: number; name: string } {
    const r = (typeof ref === 'number'
      ? this.db.prepare('SELECT id, name FROM labels WHERE id = ?').get(ref)
      : this.db.prepare('SELECT id, name FROM labels WHERE name = ?').get(ref.trim())) as { id: number; name: string } | undefined;
    if (!r) throw new ApiError(`Unknown label ${typeof ref === 'number' ? `id ${ref}` : `"${ref}"`}`, 'not_found');
    return r;
  }

  private requirePhotos(ids: number[]): number[] {
    const uniq = [...new Set(ids)];
    const st = this.db.prepare('SELECT 1 FROM photos WHERE id = ?');
    const missing = uniq.filter((id) => !st.get(id));
    if (missing.length) throw new ApiError(`Unknown photo id${missing.length > 1 ? 's' : ''}: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`, 'not_found');
    return uniq;
  }

  private requireCluster(id: number): void {
    if (!this.db.prepare('SELECT 1 FROM clusters WHERE id = ?').get(id)) throw new ApiError(`Unknown cluster c${id} (run "sift cluster" first, or list them with "sift clusters")`, 'not_found');
  }

  private ensureLabel(name: string, scope: Scope): { id: number; name: string } {
    const ex = this.db.prepare('SELECT id, name FROM labels WHERE name = ?').get(name) as { id: number; name: string } | undefined;
    if (ex) return ex;
    const id = Number(this.db.prepare('INSERT INTO labels (name, created_at) VALUES (?, ?)').run(name, now()).lastInsertRowid);
    scope.labels.push(id);
    return { id, name };
  }

  /** confirm photos as label: other non-rejected labels of the photo are removed */
  private confirmRows(labelId: number, photos: number[]): void {
    const del = this.db.prepare("DELETE FROM photo_labels WHERE photo_id = ? AND label_id != ? AND state != 'rejected'");
    const up = this.db.prepare(`INSERT INTO photo_labels (photo_id, label_id, state, updated_at) VALUES (?, ?, 'confirmed', ?)
      ON CONFLICT (photo_id, label_id) DO UPDATE SET state = 'confirmed', updated_at = excluded.updated_at WHERE state != 'confirmed'`);
    const t = now();
    for (const p of photos) { del.run(p, labelId); up.run(p, labelId, t); }
  }

  /** give photos the label as cluster-assigned, except confirmed photos and photos that rejected it */
  private assignRows(labelId: number, photos: number[]): void {
    const st = this.db.prepare('SELECT label_id, state FROM photo_labels WHERE photo_id = ?');
    const del = this.db.prepare("DELETE FROM photo_labels WHERE photo_id = ? AND state = 'assigned' AND label_id != ?");
    const ins = this.db.prepare(`INSERT INTO photo_labels (photo_id, label_id, state, updated_at) VALUES (?, ?, 'assigned', ?) ON CONFLICT DO NOTHING`);
    const t = now();
    for (const p of photos) {
      const rows = st.all(p) as { label_id: number; state: string }[];
      if (rows.some((r) => r.state === 'confirmed' || (r.label_id === labelId && r.state === 'rejected'))) continue;
      del.run(p, labelId);
      ins.run(p, labelId, t);
    }
  }

  private changed(entry: JournalEntry | null, clusters = false): void {
    if (!entry) return;
    this.version++;
    this.deps.emit({ type: 'labels.changed' });
    if (clusters) this.deps.emit({ type: 'clusters.changed' });
    // retrain after every change, in the background, once a model is in use (the UI keeps it warm)
    if (this.trained && !this.closed) void this.ensureModel().catch(() => undefined);
  }

  private result(entry: JournalEntry | null, changed: number, extra: Partial<ChangeResult> = {}): ChangeResult {
    return { entry, changed: entry ? changed : 0, ...extra };
  }

  createLabel(name: string): LabelInfo {
    if (this.db.prepare('SELECT 1 FROM labels WHERE name = ?').get(name)) throw new ApiError(`A label named "${name}" exists already`, 'conflict');
    let id = 0;
    const e = journaled(this.db, 'create', `create label "${name}"`, { photos: [], labels: [], clusters: [] }, (s) => { id = this.ensureLabel(name, s).id; });
    this.changed(e);
    return this.labels().find((l) => l.id === id)!;
  }

  renameLabel(ref: string | number, name: string): ChangeResult {
    const l = this.resolveLabel(ref);
    const other = this.db.prepare('SELECT id FROM labels WHERE name = ?').get(name) as { id: number } | undefined;
    if (other && other.id !== l.id) throw new ApiError(`A label named "${name}" exists already (merge the labels instead)`, 'conflict');
    const e = journaled(this.db, 'rename', `rename "${l.name}" to "${name}"`, { photos: [], labels: [l.id], clusters: [] }, () => {
      this.db.prepare('UPDATE labels SET name = ? WHERE id = ?').run(name, l.id);
    });
    this.changed(e);
    return this.result(e, 0, { label: { id: l.id, name } });
  }

  mergeLabels(fromRef: string | number, intoRef: string | number): ChangeResult {
    const from = this.resolveLabel(fromRef), into = this.resolveLabel(intoRef);
    if (from.id === into.id) throw new ApiError('Cannot merge a label into itself');
    const rank: Record<string, number> = { confirmed: 3, assigned: 2, rejected: 1 };
    let n = 0;
    const e = journaled(this.db, 'merge-labels', `merge "${from.name}" into "${into.name}"`, { photos: [], labels: [from.id, into.id], clusters: [] }, () => {
      const rows = this.db.prepare('SELECT photo_id, state FROM photo_labels WHERE label_id = ?').all(from.id) as { photo_id: number; state: string }[];
      const get = this.db.prepare('SELECT state FROM photo_labels WHERE photo_id = ? AND label_id = ?');
      const put = this.db.prepare(`INSERT INTO photo_labels (photo_id, label_id, state, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (photo_id, label_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`);
      for (const r of rows) {
        const ex = get.get(r.photo_id, into.id) as { state: string } | undefined;
        if (!ex || rank[r.state] > rank[ex.state]) { put.run(r.photo_id, into.id, r.state, now()); n++; }
      }
      this.db.prepare('UPDATE cluster_names SET label_id = ? WHERE label_id = ?').run(into.id, from.id);
      this.db.prepare('DELETE FROM labels WHERE id = ?').run(from.id);
    });
    this.changed(e, true);
    return this.result(e, n, { label: into });
  }

  deleteLabel(ref: string | number): ChangeResult {
    const l = this.resolveLabel(ref);
    const n = (this.db.prepare("SELECT count(*) AS n FROM photo_labels WHERE label_id = ? AND state != 'rejected'").get(l.id) as { n: number }).n;
    const e = journaled(this.db, 'delete-label', `delete label "${l.name}"`, { photos: [], labels: [l.id], clusters: [] }, () => {
      this.db.prepare('DELETE FROM labels WHERE id = ?').run(l.id);
    });
    this.changed(e, true);
    return this.result(e, n, { label: l });
  }

  label(name: string, clusters: number[], photos: number[]): ChangeResult {
    for (const c of clusters) this.requireCluster(c);
    const ph = photos.length ? this.requirePhotos(photos) : [];
    const members = clusters.flatMap((c) => (this.db.prepare('SELECT photo_id FROM cluster_members WHERE cluster_id = ?').raw().all(c) as [number][]).map((r) => r[0]));
    const existing = this.db.prepare('SELECT id FROM labels WHERE name = ?').get(name) as { id: number } | undefined;
    let label = { id: 0, name };
    const before = this.effectiveCount();
    const what = [clusters.map((c) => `c${c}`).join(' '), ph.length ? `${ph.length} photo(s)` : ''].filter(Boolean).join(' + ');
    const e = journaled(this.db, 'label', `label ${what || '(nothing)'} as "${name}"`,
      { photos: [...new Set([...members, ...ph])], labels: existing ? [existing.id] : [], clusters }, (s) => {
        label = this.ensureLabel(name, s);
        for (const c of clusters) {
          this.db.prepare('INSERT INTO cluster_names (cluster_id, label_id) VALUES (?, ?) ON CONFLICT (cluster_id) DO UPDATE SET label_id = excluded.label_id').run(c, label.id);
          this.assignRows(label.id, (this.db.prepare('SELECT photo_id FROM cluster_members WHERE cluster_id = ?').raw().all(c) as [number][]).map((r) => r[0]));
        }
        if (ph.length) this.confirmRows(label.id, ph);
      });
    this.changed(e, clusters.length > 0);
    return this.result(e, Math.max(ph.length, this.effectiveCount() - before), { label });
  }

  private effectiveCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM v_photo_labels').get() as { n: number }).n;
  }

  confirm(ref: string | number, photos: number[]): ChangeResult {
    const l = this.resolveLabel(ref);
    const ph = this.requirePhotos(photos);
    const e = journaled(this.db, 'confirm', `confirm ${ph.length} photo(s) as "${l.name}"`, { photos: ph, labels: [], clusters: [] }, () => this.confirmRows(l.id, ph));
    this.changed(e);
    return this.result(e, ph.length, { label: l });
  }

  reject(ref: string | number, photos: number[]): ChangeResult {
    const l = this.resolveLabel(ref);
    const ph = this.requirePhotos(photos);
    const e = journaled(this.db, 'reject', `${ph.length} photo(s) are not "${l.name}"`, { photos: ph, labels: [], clusters: [] }, () => {
      const up = this.db.prepare(`INSERT INTO photo_labels (photo_id, label_id, state, updated_at) VALUES (?, ?, 'rejected', ?)
        ON CONFLICT (photo_id, label_id) DO UPDATE SET state = 'rejected', updated_at = excluded.updated_at`);
      for (const p of ph) up.run(p, l.id, now());
    });
    this.changed(e);
    return this.result(e, ph.length, { label: l });
  }

  split(photos: number[], name?: string): ChangeResult {
    const ph = this.requirePhotos(photos);
    const existing = name ? this.db.prepare('SELECT id FROM labels WHERE name = ?').get(name) as { id: number } | undefined : undefined;
    let clusterId = 0;
    let label: { id: number; name: string } | undefined;
    const e = journaled(this.db, 'split', `split ${ph.length} photo(s) into a new cluster${name ? ` "${name}"` : ''}`,
      { photos: ph, labels: existing ? [existing.id] : [], clusters: [] }, (s) => {
        const next = Math.max(
          Number((this.db.prepare("SELECT value FROM learn_meta WHERE key = 'next_cluster_id'").get() as { value: string } | undefined)?.value ?? 1),
          ((this.db.prepare('SELECT max(id) AS m FROM clusters').get() as { m: number | null }).m ?? 0) + 1);
        clusterId = next;
        s.clusters.push(clusterId);
        this.db.prepare("INSERT INTO learn_meta (key, value) VALUES ('next_cluster_id', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(next + 1));
        this.db.prepare('INSERT INTO clusters (id, model_set, size, cohesion, rank, representatives, created_at) VALUES (?, ?, ?, 0, -1, ?, ?)')
          .run(clusterId, this.feats?.modelSet ?? '', ph.length, JSON.stringify(ph.slice(0, 12)), now());
        const up = this.db.prepare(`INSERT INTO cluster_members (photo_id, cluster_id, similarity, border) VALUES (?, ?, 1, 0)
          ON CONFLICT (photo_id) DO UPDATE SET cluster_id = excluded.cluster_id, similarity = 1, border = 0`);
        for (const p of ph) up.run(p, clusterId);
        if (name) {
          label = this.ensureLabel(name, s);
          this.db.prepare('INSERT INTO cluster_names (cluster_id, label_id) VALUES (?, ?)').run(clusterId, label.id);
          this.confirmRows(label.id, ph);
        }
      });
    this.changed(e, true);
    return this.result(e, ph.length, { clusterId, label });
  }

  mergeClusters(from: number, into: number): ChangeResult {
    this.requireCluster(from); this.requireCluster(into);
    if (from === into) throw new ApiError('Cannot merge a cluster into itself');
    const members = (this.db.prepare('SELECT photo_id FROM cluster_members WHERE cluster_id = ?').raw().all(from) as [number][]).map((r) => r[0]);
    const named = this.db.prepare('SELECT label_id FROM cluster_names WHERE cluster_id = ?').get(into) as { label_id: number } | undefined;
    const e = journaled(this.db, 'merge-clusters', `merge c${from} into c${into}`, { photos: members, labels: [], clusters: [from, into] }, () => {
      this.db.prepare('UPDATE cluster_members SET cluster_id = ? WHERE cluster_id = ?').run(into, from);
      this.db.prepare('DELETE FROM clusters WHERE id = ?').run(from);
      this.db.prepare('DELETE FROM cluster_names WHERE cluster_id = ?').run(from);
      if (named) this.assignRows(named.label_id, members);
    });
    this.changed(e, true);
    return this.result(e, members.length, { clusterId: into });
  }

  undo(): { entry: JournalEntry | null } {
    const entry = undoJournal(this.db);
    this.changed(entry, true);
    return { entry };
  }

  redo(): { entry: JournalEntry | null } {
    const entry = redoJournal(this.db);
    this.changed(entry, true);
    return { entry };
  }

  journal(limit: number): JournalEntry[] { return listJournal(this.db, limit); }

  // ---------- classifier ----------

  /** photo id -> the label it carries (at most one effective label per photo) */
  private effective(): Map<number, { labelId: number; label: string; state: 'confirmed' | 'assigned' }> {
    const rows = this.db.prepare(`SELECT pl.photo_id, pl.label_id, l.name, pl.state FROM photo_labels pl JOIN labels l ON l.id = pl.label_id
      WHERE pl.state IN ('confirmed','assigned') ORDER BY pl.state DESC`).raw().all() as [number, number, string, 'confirmed' | 'assigned'][];
    const m = new Map<number, { labelId: number; label: string; state: 'confirmed' | 'assigned' }>();
    for (const [p, l, name, s] of rows) if (!m.has(p) || s === 'confirmed') m.set(p, { labelId: l, label: name, state: s });
    return m;
  }

  /** Retrains (in the worker) unless the model is current; resolves with the current model. */
  async ensureModel(): Promise<Trained | null> {
    const f = await this.features();
    if (this.trained && this.trained.version === this.version && this.trained.featuresKey === f.key) return this.trained;
    if (this.training && this.training.version === this.version) return this.training.p;
    const version = this.version;
    const p = this.train(f, version);
    this.training = { version, p };
    try {
      const t = await p;
      if (!this.trained || this.trained.version <= t.version) this.trained = t;
      return t;
    } finally {
      if (this.training?.p === p) this.training = null;
    }
  }

  private async train(f: Features, version: number): Promise<Trained> {
    const { classes, pos, y, pw, negR, negY, masked, confirmed, assigned, rejected } = trainingRows(this.db, f.rowOf);
    const trainedOn = { confirmed, assigned, rejected, labels: classes.length };
    if (classes.length === 0) {
      const n = f.ids.length;
      return { version, featuresKey: f.key, classes, model: { K: 0, d: f.classifyDim, W: new Float32Array(0), temperature: 1 },
        out: { best: new Int32Array(n).fill(-1), prob: new Float32Array(n), margin: new Float32Array(n) }, trainedOn, ms: 0 };
    }
    const prev = this.trained;
    const warmOk = prev && prev.featuresKey === f.key && prev.classes.length <= classes.length && prev.classes.every((l, i) => classes[i] === l) && prev.model.K > 0;
    // ONNX kernels: fit and predict every row in one worker task (one dispatch; it does not depend on the
    // pool's second thread, which leaves after 10 s idle). JS kernels: the worker only fits, and the rows are
    // predicted in PREDICT_THREADS ranges at once (into shared arrays).
    const t0 = performance.now();
    const n = f.ids.length;
    const out = { best: new SharedArrayBuffer(n * 4), prob: new SharedArrayBuffer(n * 4), margin: new SharedArrayBuffer(n * 4) };
    const maskedList = [...masked];
    const r = await this.run<RetrainOut>({
      kind: 'retrain', features: f.classify, featuresKey: f.key, n, d: f.classifyDim, K: Math.max(classes.length, 1),
      set: { rows: pos, y, negRows: negR, negY, pw },
      warm: warmOk ? prev.model : null, calibrate: !warmOk || version % 10 === 0, masked: maskedList, out,
    });
    const fitted = r.fitted;
    const tp = performance.now();
    const parts = n >= 20_000 ? PREDICT_THREADS : 1;
    if (!r.predicted) {
      await Promise.all(Array.from({ length: parts }, (_, p) => this.run<number>({
        kind: 'predict', features: f.classify, d: f.classifyDim, lo: Math.floor((p * n) / parts), hi: Math.floor(((p + 1) * n) / parts),
        featuresKey: f.key, fitted, masked: maskedList, out,
      })));
    }
    const predictMs = r.predicted ? r.predictMs : performance.now() - tp;
    const t: TrainOut = { model: fitted.model, predictions: { best: new Int32Array(out.best), prob: new Float32Array(out.prob), margin: new Float32Array(out.margin) },
      ms: fitted.ms + predictMs };
    // a thread pays for its onnxruntime sessions, its copy of the features and the first (slow) runs at a new
    // size on its first retrain: warm every thread now, in the background, after a cold train or when a thread is new
    if (r.predicted) this.warmThreads(f, !warmOk, n, classes.length);
    this.lastFitMs = fitted.ms; this.lastPredictMs = predictMs; this.lastTrainWallMs = performance.now() - t0;
    if (classes.length > 1) {
      // the regression's answer stands if the propagation fails (a worker error, or the engine closing)
      try { await this.propagateInto(f, classes, { rows: Int32Array.from(pos), y: Int32Array.from(y), weight: Float32Array.from(pw) }, masked, t.predictions); }
      catch (e) { if (!this.closed) process.emitWarning(`label propagation failed, the logistic regression answers: ${(e as Error)?.message ?? e}`); }
    }
    if (classes.length === 1) {
      // one label: no alternative class to compare with; the model cannot tell 'not this label', so be honest
      t.predictions.prob.fill(0); t.predictions.margin.fill(0); t.predictions.best.fill(-1);
    }
    this.lastTrainMs = t.ms;
    return { version, featuresKey: f.key, classes, model: t.model, out: t.predictions, trainedOn, ms: t.ms };
  }

  private warmed = new WeakSet<object>();
  /**
   * Runs one 'warm' task per pool thread (all at once, so each idle thread takes one): onnxruntime sessions,
   * the thread's features copy, and a few prediction runs at the real size (the first ones are slow).
   */
  private warmThreads(f: Features, force: boolean, rows: number, K: number): void {
    const threads = (this.pool?.threads ?? []) as object[];
    if (!force && threads.every((w) => this.warmed.has(w))) return;
    for (const w of threads) this.warmed.add(w);
    for (let i = 0; i < PREDICT_THREADS; i++) {
      void this.run({ kind: 'warm', features: f.classify, featuresKey: f.key, d: f.classifyDim, rows, K }).catch(() => undefined);
    }
  }

  // ---------- label propagation (libraries up to LP_MAX_PHOTOS) ----------

  private graph: { key: string; p: Promise<KnnGraph> } | null = null;
  private lpWarm: { key: string; F: [Float32Array, Float32Array] } | null = null;
  /** last propagation time in ms (diagnostics, bench), graph build excluded */
  lastPropagateMs = 0;
  /** libraries above this many photos keep the logistic regression alone (the exact graph is O(n²)) */
  lpMaxPhotos = LP_MAX_PHOTOS;

  private runLp<T>(task: PropagateTask): Promise<T> { return this.runOn<T>('lpPool', task); }

  /** The kNN graph of the current features (built once per features key, in row ranges on the pool's threads). */
  private knn(f: Features): Promise<KnnGraph> {
    if (this.graph?.key === f.key) return this.graph.p;
    const n = f.ids.length, k = Math.min(LP_K, n - 1);
    const nb = new SharedArrayBuffer(n * k * 4), w = new SharedArrayBuffer(n * k * 4);
    const parts = n >= 2000 ? PREDICT_THREADS : 1;
    const p = Promise.all(Array.from({ length: parts }, (_, i) => this.runLp<number>({
      kind: 'knn', features: f.classify, n, d: f.classifyDim, k, lo: Math.floor((i * n) / parts), hi: Math.floor(((i + 1) * n) / parts), nb, w,
    }))).then(() => ({ n, k, nb: new Int32Array(nb), w: new Float32Array(w) }));
    this.graph = { key: f.key, p };
    p.catch(() => { if (this.graph?.p === p) this.graph = null; });
    return p;
  }

  /**
   * Label propagation over the kNN graph replaces the logistic regression's answer for every photo the
   * labelled evidence reaches (it measured better on the dev library; see propagate.ts). Photos it does not
   * reach keep the regression's answer. Open set: a photo that receives less evidence than nearly every
   * labelled photo (2nd percentile of their mass) is capped under the threshold ('unknown').
   */
  private async propagateInto(f: Features, classes: number[], seeds: { rows: Int32Array; y: Int32Array; weight: Float32Array }, masked: Map<number, number[]>, out: TrainOut['predictions']): Promise<void> {
    const n = f.ids.length;
    if (n > this.lpMaxPhotos || n < 3 || seeds.rows.length === 0) return;
    const g = await this.knn(f);
    const t0 = performance.now();
    const key = `${f.key}|${classes.join(',')}`;
    // cluster-assigned seeds (weight < 1) in two folds, so that none answers for itself (propagateCrossFitted)
    const fold = new Int8Array(seeds.rows.length).fill(-1);
    let j = 0;
    for (let s = 0; s < seeds.rows.length; s++) if (seeds.weight[s] < 1) fold[s] = (j++) % 2;
    const r = await this.runLp<CrossFitted>({
      kind: 'propagate', nb: g.nb.buffer as SharedArrayBuffer, w: g.w.buffer as SharedArrayBuffer, n, k: g.k, K: classes.length, seeds, fold,
      warm: this.lpWarm?.key === key ? this.lpWarm.F : null, masked: [...masked],
    });
    this.lpWarm = { key, F: r.F };
    const seedMass = Float32Array.from(seeds.rows, (row) => r.mass[row]).sort();
    const floor = seedMass.length >= 20 ? seedMass[Math.floor(0.02 * (seedMass.length - 1))] : 0;
    for (let i = 0; i < n; i++) {
      if (r.best[i] < 0) continue;
      out.best[i] = r.best[i];
      out.prob[i] = r.mass[i] < floor ? Math.min(r.prob[i], SUGGEST_THRESHOLD - 0.01) : r.prob[i];
      out.margin[i] = r.margin[i];
    }
    this.lastPropagateMs = performance.now() - t0;
  }

  async suggestions(labelRef: string | number | undefined, offset: number, limit: number): Promise<SuggestionPage> {
    const only = labelRef !== undefined ? this.resolveLabel(labelRef) : null;
    const t = await this.ensureModel();
    const f = this.feats!;
    const current = this.effective();
    const rejected = new Set((this.db.prepare("SELECT photo_id || ':' || label_id FROM photo_labels WHERE state = 'rejected'").raw().all() as [string][]).map((r) => r[0]));
    const members = new Map((this.db.prepare('SELECT photo_id, cluster_id, border FROM cluster_members').raw().all() as [number, number | null, number][]).map((r) => [r[0], r]));
    const names = new Map((this.db.prepare('SELECT id, name FROM labels').raw().all() as [number, string][]));
    const n = f.ids.length;
    const score = new Float32Array(n);
    const keep: number[] = [];
    const reasons: Suggestion['reason'][] = new Array(n);
    for (let row = 0; row < n; row++) {
      const id = f.ids[row];
      const cur = current.get(id);
      if (cur?.state === 'confirmed') continue;
      const c = t && t.out.best[row] >= 0 ? t.out.best[row] : -1;
      const lid = c >= 0 ? t!.classes[c] : null;
      const p = c >= 0 ? t!.out.prob[row] : 0;
      const known = lid !== null && p >= SUGGEST_THRESHOLD && !rejected.has(`${id}:${lid}`);
      const border = members.get(id)?.[2] === 1;
      if (only) {
        if (!known || lid !== only.id || cur?.labelId === only.id) continue;
        score[row] = p; reasons[row] = cur ? 'disagrees' : 'confident';
      } else {
        const margin = c >= 0 ? t!.out.margin[row] : 0;
        if (cur && known && lid !== cur.labelId) { score[row] = 2 + p; reasons[row] = 'disagrees'; }
        else if (!cur) { score[row] = 1 + (1 - margin) * 0.5 + (border ? 0.25 : 0); reasons[row] = known ? (margin < 0.3 ? 'uncertain' : border ? 'border' : 'unlabeled') : 'uncertain'; }
        else { score[row] = (1 - margin) * 0.5 + (border ? 0.25 : 0); reasons[row] = margin < 0.3 ? 'uncertain' : border ? 'border' : 'confident'; }
      }
      keep.push(row);
    }
    keep.sort((a, b) => score[b] - score[a] || f.ids[a] - f.ids[b]);
    const items: Suggestion[] = keep.slice(offset, offset + limit).map((row) => {
      const id = f.ids[row];
      const c = t && t.out.best[row] >= 0 ? t.out.best[row] : -1;
      const p = c >= 0 ? t!.out.prob[row] : 0;
      const lid = c >= 0 && p >= SUGGEST_THRESHOLD ? t!.classes[c] : null;
      const cur = current.get(id);
      const mem = members.get(id);
      return {
        photoId: id, label: lid !== null ? names.get(lid) ?? null : null, labelId: lid,
        confidence: round(p), margin: round(c >= 0 ? t!.out.margin[row] : 0),
        current: cur ? { labelId: cur.labelId, label: cur.label, state: cur.state } : null,
        clusterId: mem?.[1] ?? null, border: mem?.[2] === 1, score: round(score[row]), reason: reasons[row],
      };
    });
    return { items, total: keep.length, offset, threshold: SUGGEST_THRESHOLD, trainedOn: t?.trainedOn ?? { confirmed: 0, assigned: 0, rejected: 0, labels: 0 } };
  }
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/**
 * The training examples from photo_labels, in (label, photo) order (the order fixes the per-class subsample
 * and the cross-fitting folds). One packed integer per row, (label · 2³² + photo) · 4 + state, read with
 * pluck: no row objects, no strings (this runs on the caller's thread before every retrain).
 */
function trainingRows(db: DB, rowOf: Map<number, number>) {
  const mx = db.prepare('SELECT (SELECT max(label_id) FROM photo_labels), (SELECT max(photo_id) FROM photo_labels)').raw().get() as [number | null, number | null];
  // Int32 ids: Map lookups with small-integer keys (a double key is much slower)
  let P: Int32Array, Lb: Int32Array, S: Uint8Array;
  if ((mx[0] ?? 0) < 2 ** 19 && (mx[1] ?? 0) < 2 ** 31) {
    const keys = db.prepare(`SELECT (label_id * 4294967296 + photo_id) * 4 + CASE state WHEN 'confirmed' THEN 0 WHEN 'assigned' THEN 1 ELSE 2 END
      FROM photo_labels ORDER BY label_id, photo_id`).pluck().all() as number[];
    P = new Int32Array(keys.length); Lb = new Int32Array(keys.length); S = new Uint8Array(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i], st = k % 4, rest = (k - st) / 4, ph = rest % 4294967296;
      P[i] = ph; Lb[i] = (rest - ph) / 4294967296; S[i] = st;
    }
  } else {
    const rows = db.prepare('SELECT photo_id, label_id, state FROM photo_labels ORDER BY label_id, photo_id').raw().all() as [number, number, string][];
    P = Int32Array.from(rows, (r) => r[0]); Lb = Int32Array.from(rows, (r) => r[1]);
    S = Uint8Array.from(rows, (r) => (r[2] === 'confirmed' ? 0 : r[2] === 'assigned' ? 1 : 2));
  }
  const m = P.length;
  const row = new Int32Array(m);
  const classSet = new Set<number>();
  for (let i = 0; i < m; i++) {
    row[i] = rowOf.get(P[i]) ?? -1;
    if (S[i] !== 2 && row[i] >= 0) classSet.add(Lb[i]);
  }
  const classes = [...classSet].sort((a, b) => a - b);
  const cls = new Map(classes.map((l, i) => [l, i]));
  let nPos = 0, nNeg = 0;
  for (let i = 0; i < m; i++) if (row[i] >= 0 && cls.has(Lb[i])) { if (S[i] === 2) nNeg++; else nPos++; }
  const pos = new Int32Array(nPos), y = new Int32Array(nPos), pw = new Float32Array(nPos), negR = new Int32Array(nNeg), negY = new Int32Array(nNeg);
  const masked = new Map<number, number[]>();
  let confirmed = 0, assigned = 0, rejected = 0;
  for (let i = 0; i < m; i++) {
    const r = row[i], c = cls.get(Lb[i]);
    if (r < 0 || c === undefined) continue;
    if (S[i] === 2) {
      negR[rejected] = r; negY[rejected] = c; rejected++;
      const mk = masked.get(r); if (mk) mk.push(c); else masked.set(r, [c]);
    } else {
      const j = confirmed + assigned;
      pos[j] = r; y[j] = c; pw[j] = S[i] === 0 ? 1 : ASSIGNED_WEIGHT;
      if (S[i] === 0) confirmed++; else assigned++;
    }
  }
  return { classes, pos, y, pw, negR, negY, masked, confirmed, assigned, rejected };
}
