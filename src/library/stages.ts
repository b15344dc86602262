// The seam for per-photo pipeline stages that run after the thumbnail (embeddings first; more later).
//
// During `library.index`, the decode worker already holds each photo's pixels. When a registered stage
// wants pixels (pixelSize > 0), the worker also returns the photo's pixels: sRGB, 8-bit RGB (3 channels),
// EXIF orientation applied, long side = min(original long side, max pixelSize of the stages). The index
// pipeline hands them to the stage in batches as they come (awaiting process() gives back-pressure), so a
// photo is decoded once. After the scan, photos that still need the stage (stage.pending) are given without
// pixels, and the stage decodes them itself.
import type { DB } from '../store/db.ts';
import type { JobHandle } from '../util/jobs.ts';

export interface DecodedPixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3;
}

export interface StageItem {
  photoId: number;
  path: string;
  pixels?: DecodedPixels;
}

export interface PhotoStage {
  id: string;
  /** Long side in px of the pixels this stage wants from the index decode; 0 = it wants none. */
  pixelSize: number;
  /** Whether the stage can run now (e.g. its models are installed); when false it is skipped, with reason. */
  ready(): { ok: true } | { ok: false; reason: string };
  /** Ids of photos (status 'ok') that still need this stage. */
  pending(db: DB): number[];
  /** Processes a batch; failures are per photo and recorded by the stage, never thrown for one photo. */
  process(batch: StageItem[], job: JobHandle): Promise<{ done: number; failed: { photoId: number; error: string }[] }>;
}
