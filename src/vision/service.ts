// The vision part's engine functions behind the API handlers (src/api/handlers/vision.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { DB } from '../store/db.ts';
import type { Jobs } from '../util/jobs.ts';
import type { CatalogInfo, EmbedSummary, ModelInfo, ModelsInfo, ModelSetInfo, SimilarResult, VisionStatus } from '../api/contract/vision.ts';
import { CATALOG } from './catalog.ts';
import { download } from './download.ts';
import { parseManifest, sha256File } from './manifest.ts';
import { ModelError, installUserModel, readEntry, verifyModel, type ModelEntry } from './registry.ts';
import { VisionRuntime } from './runtime.ts';
import { countEmbeddings, currentModelSet, embeddingErrors, loadEmbedding, loadEmbeddings, pendingPhotos, topTags } from './store.ts';
import { nearest } from './similar.ts';

export class NotFound extends Error {}

export class VisionService {
  readonly rt: VisionRuntime;
  readonly userDir: string;
  private background: Promise<unknown> | null = null;

  constructor(private db: DB, readonly modelsDir: string, dataDir: string, private jobs: Jobs, private onChanged: () => void) {
    this.userDir = path.join(dataDir, 'models');
    this.rt = new VisionRuntime({ db, modelsDir, userModelsDir: this.userDir });
  }

  status(): VisionStatus {
    const modelSet = this.rt.selectedSetId();
    let ready = true, reason: string | null = null;
    try { this.rt.resolved(); } catch (e) { ready = false; reason = (e as Error).message; }
    return {
      modelSet, current: currentModelSet(this.db), embedded: countEmbeddings(this.db, modelSet),
      pending: pendingPhotos(this.db, modelSet).length, failed: embeddingErrors(this.db, modelSet).length, ready, reason,
    };
  }

  private modelInfo(mf: string, origin: 'default' | 'user'): ModelInfo {
    const id = path.basename(mf, '.json');
    let e: ModelEntry;
    try { e = readEntry(mf, origin); } catch (err) {
      return { id, version: null, origin, file: mf, bytes: null, status: 'invalid', reason: (err as Error).message, outputs: [] };
    }
    const v = verifyModel(e);
    const status: ModelInfo['status'] = v.ok ? 'ok' : fs.existsSync(e.file) ? 'corrupt' : 'missing';
    return {
      id: e.manifest.id, version: e.manifest.version, origin: e.origin, file: e.file,
      bytes: fs.existsSync(e.file) ? fs.statSync(e.file).size : null, status, reason: v.ok ? null : v.reason,
      outputs: e.manifest.outputs.map((o) => ({ name: o.name, dim: o.dim, labels: o.labels?.length ?? 0 })),
    };
  }

  models(): ModelsInfo {
    const list = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f)) : []);
    const models = [...list(this.modelsDir).map((f) => this.modelInfo(f, 'default')), ...list(this.userDir).map((f) => this.modelInfo(f, 'user'))];
    const selected = this.rt.selectedSetId(), current = currentModelSet(this.db);
    const sets: ModelSetInfo[] = this.rt.registry.modelSets().map((s) => {
      let dim: number | null = null, ready = true, reason: string | null = null;
      try { dim = this.rt.registry.resolve(s).dim; } catch (e) { ready = false; reason = (e as Error).message; }
      return { id: s.id, models: s.parts.map((p) => p.model), dim, selected: s.id === selected, current: s.id === current, embedded: countEmbeddings(this.db, s.id), ready, reason };
    });
    const installed = new Set(models.filter((m) => m.status === 'ok').map((m) => m.id));
    const catalog: CatalogInfo[] = CATALOG.map((c) => ({ id: c.id, title: c.title, url: c.url, size: c.size, installed: installed.has(c.id), downloadable: !!(c.size && c.sha256) }));
    return { models, sets, catalog, defaultsDir: this.modelsDir, userDir: this.userDir };
  }

  /** Runs the embedding job for pending photos of the selected set. */
  embed(jobId?: string): Promise<EmbedSummary> {
    return this.jobs.run('vision.embed', jobId, async (job) => {
      const t0 = performance.now();
      const r = await this.rt.embedPending(job);
      const pathOf = this.db.prepare('SELECT path FROM photos WHERE id = ?').pluck();
      if (r.done) this.onChanged();
      return {
        modelSet: this.rt.selectedSetId(), total: r.total, done: r.done, cancelled: r.cancelled,
        failed: r.failed.map((f) => ({ ...f, path: (pathOf.get(f.photoId) as string) ?? '' })), seconds: (performance.now() - t0) / 1000,
      };
    });
  }

  setModelSet(id: string, background: boolean): { modelSet: string; pending: number; jobId: string | null } {
    this.rt.registry.resolve(this.rt.registry.modelSet(id)); // its models must be usable
    this.rt.selectSet(id);
    const pending = pendingPhotos(this.db, id).length;
    let jobId: string | null = null;
    if (background && pending > 0) {
      jobId = `vision.embed:${id}:${Date.now()}`;
      this.background = this.embed(jobId).catch(() => undefined);
    }
    return { modelSet: id, pending, jobId };
  }

  /** Resolves when the background re-embedding (if any) is done. */
  async idle(): Promise<void> { await this.background; }

  async similar(q: { photoId?: number; path?: string; k: number }): Promise<SimilarResult> {
    const photoByPath = q.path ? (this.db.prepare('SELECT id FROM photos WHERE path = ?').pluck().get(path.resolve(q.path)) as number | undefined) : undefined;
    const photoId = q.photoId ?? photoByPath ?? null;
    const set = photoId !== null ? (currentModelSet(this.db) ?? this.rt.selectedSetId()) : this.rt.selectedSetId();
    let vec: Float32Array | null;
    let qpath = q.path ? path.resolve(q.path) : '';
    if (photoId !== null) {
      const p = this.db.prepare('SELECT path FROM photos WHERE id = ?').pluck().get(photoId) as string | undefined;
      if (p === undefined) throw new NotFound(`No photo with id ${photoId}`);
      qpath = p;
      vec = loadEmbedding(this.db, photoId, set);
      if (!vec) throw new NotFound(`Photo ${photoId} has no embedding for model set ${set} yet; run \`sift index\` (or vision.embed) first`);
    } else {
      if (!fs.existsSync(qpath)) throw new NotFound(`No such file: ${qpath}`);
      const [r] = await this.rt.embedItems([{ photoId: -1, path: qpath }]);
      if (!r?.vector) throw new ModelError(`Cannot embed ${qpath}: ${r?.error ?? 'unknown error'}`);
      vec = r.vector;
    }
    const m = loadEmbeddings(this.db, set);
    const pathOf = this.db.prepare('SELECT path FROM photos WHERE id = ?').pluck();
    const results = nearest(m, vec, q.k, photoId ?? undefined).map((n) => ({ photoId: n.photoId, path: pathOf.get(n.photoId) as string, score: n.score }));
    return { modelSet: set, query: { photoId, path: qpath }, results };
  }

  addModel(file: string, manifest: Record<string, unknown>): ModelInfo {
    const e = installUserModel(this.userDir, path.resolve(file), manifest);
    return this.modelInfo(e.manifestFile, 'user');
  }

  async downloadModel(q: { id: string; url?: string; size?: number; sha256?: string; manifest?: Record<string, unknown>; jobId?: string }): Promise<{ id: string; bytes: number; resumed: boolean }> {
    const c = CATALOG.find((x) => x.id === q.id);
    const url = q.url ?? c?.url, size = q.size ?? c?.size ?? null, sha256 = q.sha256 ?? c?.sha256 ?? null;
    const manifest = q.manifest ?? c?.manifest;
    if (!url) throw new NotFound(`Unknown model ${q.id}; the catalogue has: ${CATALOG.map((x) => x.id).join(', ')}`);
    if (!size || !sha256) throw new ModelError(`Model ${q.id} has no pinned size and SHA-256; it will not be downloaded unverified`);
    if (!manifest) throw new ModelError(`Model ${q.id}: no manifest given`);
    // validate the manifest before spending time on the download
    const m = parseManifest({ ...manifest, id: q.id, file: `${q.id}.onnx`, sha256, notes: `downloaded from ${url}` }, `manifest of ${q.id}`);
    return this.jobs.run('vision.download', q.jobId, async (job) => {
      const dest = path.join(this.userDir, m.file);
      const r = await download({ url, size, sha256 }, dest, {
        signal: job.signal,
        onProgress: (p) => job.progress({ phase: 'download', done: p.done, total: p.total, current: q.id }),
      });
      if (sha256File(dest) !== sha256) throw new ModelError(`Model ${q.id}: installed file does not match its SHA-256`);
      const mf = path.join(this.userDir, `${q.id}.json`);
      fs.writeFileSync(mf + '.tmp', JSON.stringify(m, null, 2));
      fs.renameSync(mf + '.tmp', mf);
      return { id: q.id, bytes: r.bytes, resumed: r.resumed };
    });
  }

  tags(photoIds: number[], limit: number) { return topTags(this.db, photoIds, limit); }

  exportEmbeddings(out: string, modelSet?: string): { file: string; metaFile: string; rows: number; dim: number; modelSet: string } {
    const set = modelSet ?? currentModelSet(this.db);
    if (!set) throw new NotFound('No embeddings yet: run `sift index` first');
    const m = loadEmbeddings(this.db, set);
    const file = path.resolve(out), metaFile = file + '.json';
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const pathOf = this.db.prepare('SELECT path FROM photos WHERE id = ?').pluck();
    let models: { id: string; version: string; sha256: string }[] = [];
    try {
      const rs = this.rt.registry.resolve(this.rt.registry.modelSet(set));
      models = rs.models.map((x) => ({ id: x.id, version: x.manifest.version, sha256: x.manifest.sha256 }));
    } catch { /* the set's models may be gone: the vectors are still valid */ }
    const buf = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
    const le = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
    if (!le) { for (let i = 0; i < buf.length; i += 4) buf.subarray(i, i + 4).reverse(); }
    fs.writeFileSync(file + '.tmp', buf);
    fs.renameSync(file + '.tmp', file);
    const meta = { modelSet: set, models, dtype: 'float32', byteOrder: 'little-endian', layout: 'row-major', rows: m.ids.length, dim: m.dim,
      photos: m.ids.map((id) => ({ id, path: pathOf.get(id) as string })) };
    fs.writeFileSync(metaFile, JSON.stringify(meta, null, 1));
    return { file, metaFile, rows: m.ids.length, dim: m.dim, modelSet: set };
  }
}
