import { z } from 'zod';
import { method } from './define.ts';

export interface RootInfo {
  id: number; path: string; photos: number;
  /** Why the folder cannot be reached now (disconnected drive, unmounted share...), or null. Its photos are kept as they are. */
  offline: string | null;
}

export interface Photo {
  id: number;
  path: string;
  size: number;
  hash: string | null;
  format: string | null;
  width: number | null;
  height: number | null;
  takenAt: string | null;
  orientation: number | null;
  gps: { lat: number; lon: number } | null;
  camera: { make: string | null; model: string | null } | null;
  thumbnail: string | null;       // absolute path of the cached thumbnail
  status: 'ok' | 'missing' | 'failed' | 'pending';
  error: string | null;
  /** Set when status is 'ok' but the file is damaged and decoded only partially. */
  warning: string | null;
  duplicateOf: number | null;
}

export interface StageSummary { id: string; done: number; failed: number; skipped: string | null }

export interface IndexSummary {
  found: number;
  added: number;
  unchanged: number;
  updated: number;
  moved: number;
  missing: number;
  duplicates: number;
  /** Photos under scanned library folders that cannot be reached now (listed in failed): left as they are. */
  offline: number;
  /** Files (or unreadable folders) that could not be indexed, with the reason. */
  failed: { path: string; error: string }[];
  /** Photos indexed but damaged (decoded partially). */
  warnings: { path: string; warning: string }[];
  /** Per-photo stages run after the thumbnails (embeddings...). */
  stages: StageSummary[];
  cancelled: boolean;
  seconds: number;
}

export interface LibraryStatus {
  roots: RootInfo[];
  photos: number;
  ok: number;
  missing: number;
  failed: number;
  pending: number;
  duplicates: number;
  /** Photos under library folders that cannot be reached now (their rows are kept as they are). */
  offline: number;
  dbPath: string;
}

export const photoQuery = z.object({
  status: z.enum(['ok', 'missing', 'failed', 'pending', 'all']).default('all'),
  ids: z.array(z.number().int()).optional(),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(1_000_000).optional(),
});

export const libraryContract = {
  'library.addRoot': method<RootInfo>()(z.object({ path: z.string().min(1) })),
  /** Forgets a folder: its photos leave the index (files on disk are never touched). */
  'library.removeRoot': method<{ removed: boolean; photos: number }>()(z.object({ path: z.string().min(1) })),
  'library.status': method<LibraryStatus>()(z.object({})),
  /** Scans the given roots (added if new) or all roots; resolves when done. Progress: job.progress events. */
  'library.index': method<IndexSummary>()(z.object({
    roots: z.array(z.string().min(1)).optional(),
    jobId: z.string().optional(),
    /** Run the per-photo stages (embeddings) after the thumbnails; false = index only. */
    stages: z.boolean().default(true),
    /** Decompression-bomb guard: images above this many pixels fail. */
    maxPixels: z.number().int().min(1).optional(),
  })),
  'library.photos': method<Photo[]>()(photoQuery),
  'library.photo': method<Photo>()(z.object({ id: z.number().int() })),
};
