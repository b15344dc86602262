// The one typed contract of the engine API, shared by every host (CLI, Electron main/preload, web test
// host) and the renderer. Pure: zod schemas and types only.
import type { z } from 'zod';
import type { MethodDef } from './define.ts';
import { jobsContract, type JobEvent } from './jobs.ts';
import { libraryContract } from './library.ts';
import { visionContract } from './vision.ts';
import { learnContract } from './learn.ts';
import { exportContract } from './export.ts';

export * from './jobs.ts';
export * from './library.ts';
export * from './vision.ts';
export * from './learn.ts';
export * from './export.ts';
export type { MethodDef } from './define.ts';
export type { SiftHost } from './host.ts';

export const contract = {
  ...jobsContract,
  ...libraryContract,
  ...visionContract,
  ...learnContract,
  ...exportContract,
} as const;

export type Contract = typeof contract;
export type MethodName = keyof Contract;
export type Input<K extends MethodName> = z.input<Contract[K]['input']>;
export type ParsedInput<K extends MethodName> = z.output<Contract[K]['input']>;
export type Output<K extends MethodName> = Contract[K] extends MethodDef<any, infer O> ? O : never;

/** Every event the engine emits (progress of jobs, changes other views should refresh on). */
export type SiftEvent =
  | JobEvent
  | { type: 'library.changed' }
  | { type: 'labels.changed' }
  | { type: 'clusters.changed' }
  | { type: 'embeddings.changed' }
  | { type: 'exports.changed' };

/** What a host hands to a client: one call function and one event subscription. */
export interface SiftClient {
  call<K extends MethodName>(name: K, input: Input<K>): Promise<Output<K>>;
  onEvent(listener: (e: SiftEvent) => void): () => void;
}

export function isMethod(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(contract, name);
}
