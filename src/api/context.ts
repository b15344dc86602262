// What every engine part's API handlers get: the database, the data folders, events and jobs.
import path from 'node:path';
import type { DB } from '../store/db.ts';
import type { SiftEvent, MethodName, ParsedInput, Output } from './contract/index.ts';
import type { Jobs } from '../util/jobs.ts';
import type { PhotoStage } from '../library/stages.ts';

export interface EngineContext {
  db: DB;
  dbPath: string;
  /** Folder next to the database: thumbnails/, models/ (user-installed), exports' temp files. */
  dataDir: string;
  thumbsDir: string;
  /** Where the default (install-time converted) models live. */
  modelsDir: string;
  emit(e: SiftEvent): void;
  jobs: Jobs;
  /** Per-photo stages run by library.index after the thumbnail (see src/library/stages.ts). */
  stages: PhotoStage[];
  /** Listen to every event this engine emits (parts invalidate caches on other parts' changes). */
  onEvent(listener: (e: SiftEvent) => void): () => void;
  /** Run fn when the engine closes, before the database closes (stop worker pools, flush). */
  onClose(fn: () => void | Promise<void>): void;
}

export type Handlers<K extends MethodName> = { [N in K]: (input: ParsedInput<N>) => Promise<Output<N>> | Output<N> };

export function dataDirFor(dbPath: string): string {
  return dbPath === ':memory:' ? path.resolve('.sift-data') : path.join(path.dirname(path.resolve(dbPath)), 'sift-data');
}
