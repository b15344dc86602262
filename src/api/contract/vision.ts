import { z } from 'zod';
import { method } from './define.ts';

// The vision part: embeddings (model sets), models (default, user-supplied, downloadable), similar photos, tags.

export interface VisionStatus {
  /** the model set new embeddings are made with */
  modelSet: string;
  /** the model set readers use now (the one with the most vectors), null when nothing is embedded */
  current: string | null;
  embedded: number;
  pending: number;
  failed: number;
  /** whether the selected set's models are installed and intact; reason when not */
  ready: boolean;
  reason: string | null;
}

export interface ModelInfo {
  id: string;
  version: string | null;
  origin: 'default' | 'user' | 'downloaded';
  file: string;
  bytes: number | null;
  status: 'ok' | 'missing' | 'corrupt' | 'invalid';
  reason: string | null;
  outputs: { name: string; dim: number; labels: number }[];
}
export interface ModelSetInfo { id: string; models: string[]; dim: number | null; selected: boolean; current: boolean; embedded: number; ready: boolean; reason: string | null }
export interface CatalogInfo { id: string; title: string; url: string; size: number | null; installed: boolean; downloadable: boolean }
export interface ModelsInfo { models: ModelInfo[]; sets: ModelSetInfo[]; catalog: CatalogInfo[]; defaultsDir: string; userDir: string }

export interface SimilarResult {
  modelSet: string;
  query: { photoId: number | null; path: string };
  results: { photoId: number; path: string; score: number }[];
}

export interface EmbedSummary {
  modelSet: string;
  total: number;
  done: number;
  failed: { photoId: number; path: string; error: string }[];
  cancelled: boolean;
  seconds: number;
}

export interface TagScore { tag: string; score: number; photos: number }

export const modelManifestInput = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/),
}).passthrough();

export const visionContract = {
  'vision.status': method<VisionStatus>()(z.object({})),
  'vision.models': method<ModelsInfo>()(z.object({})),
  /** Nearest photos by cosine similarity of the current model set's embeddings. A path outside the library is embedded on the fly. */
  'vision.similar': method<SimilarResult>()(z.object({
    photoId: z.number().int().optional(),
    path: z.string().min(1).optional(),
    k: z.number().int().min(1).max(10_000).default(10),
  }).refine((v) => (v.photoId === undefined) !== (v.path === undefined), { message: 'give exactly one of photoId or path' })),
  /** Embeds every photo without a vector for the selected model set (incremental). */
  'vision.embed': method<EmbedSummary>()(z.object({ jobId: z.string().optional() })),
  /** Selects the model set for new embeddings; re-embeds the library in the background (unless background is false). */
  'vision.setModelSet': method<{ modelSet: string; pending: number; jobId: string | null }>()(z.object({
    id: z.string().min(1),
    background: z.boolean().default(true),
  })),
  /** Installs a user-supplied ONNX image model with a small manifest (see README, Learned features). */
  'vision.addModel': method<ModelInfo>()(z.object({ file: z.string().min(1), manifest: modelManifestInput })),
  /** Downloads a catalogue model (by id) or an explicitly pinned one (url + size + sha256 + manifest). Resumable. */
  'vision.downloadModel': method<{ id: string; bytes: number; resumed: boolean }>()(z.object({
    id: z.string().min(1),
    url: z.string().url().optional(),
    size: z.number().int().positive().optional(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    manifest: z.record(z.string(), z.unknown()).optional(),
    jobId: z.string().optional(),
  })),
  /** The best object tags of a group of photos (e.g. a cluster): suggested names. */
  'vision.tags': method<TagScore[]>()(z.object({ photoIds: z.array(z.number().int()).min(1), limit: z.number().int().min(1).max(80).default(5) })),
  /** Writes the current model set's matrix: FILE (float32 little-endian, row-major) + FILE.json (photo ids, paths, models). */
  'vision.exportEmbeddings': method<{ file: string; metaFile: string; rows: number; dim: number; modelSet: string }>()(z.object({
    out: z.string().min(1),
    modelSet: z.string().optional(),
  })),
};
