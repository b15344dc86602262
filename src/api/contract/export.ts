import { z } from 'zod';
import { method } from './define.ts';

// Export sorted folders safely: plan (dry run) -> run (journaled, verified, resumable) -> undo.

export type ExportMode = 'copy' | 'hardlink' | 'symlink' | 'move';

export const exportOptions = z.object({
  /** Destination folder (created if missing). */
  to: z.string().min(1),
  mode: z.enum(['copy', 'hardlink', 'symlink', 'move']).default('copy'),
  /** Relative path template; tokens {label} {yyyy} {mm} {dd} {camera} {name} {ext}. Without {name}, files keep their name. */
  template: z.string().min(1).default('{label}'),
  /** Photos without a label: skipped (and listed in the plan) or put in the "Unsorted" folder. */
  unlabeled: z.enum(['skip', 'folder']).default('folder'),
  unsortedName: z.string().min(1).default('Unsorted'),
  /** Also write the labels as XMP dc:subject keywords into a sidecar <file>.xmp next to each exported photo. */
  keywords: z.boolean().default(false),
  /** Only these photos (default: the whole library). */
  photoIds: z.array(z.number().int()).optional(),
});
export type ExportOptionsInput = z.input<typeof exportOptions>;

export interface ExportConflict { photoId: number | null; src: string | null; dst: string; kind: 'renamed' | 'identical' | 'crossDevice' | 'keywordsSkipped' | 'blocked'; detail: string }

export interface ExportPlan {
  /** Id of the stored plan: pass it to export.run to execute exactly this plan. */
  exportId: number;
  dest: string;
  mode: ExportMode;
  template: string;
  unlabeled: 'skip' | 'folder';
  keywords: boolean;
  photos: number;
  /** photo placements (a photo with 2 labels has 2) */
  placements: number;
  /** file operations, sidecars and keyword files included */
  files: number;
  /** sidecars copied, linked or moved with their photo (an XMP sidecar that gets the keywords merged in counts
   *  as a keyword file instead) */
  sidecars: number;
  /** XMP keyword sidecars written: new ones, and copies of existing XMP sidecars with the labels merged in */
  keywordFiles: number;
  bytesToWrite: number;
  freeBytes: number | null;
  /** targets already holding identical content: skipped */
  identical: number;
  /** placements that get a numbered name because a different file has the name */
  renamed: number;
  folders: { folder: string; photos: number; bytes: number }[];
  conflicts: ExportConflict[];   // first 1000
  conflictsTotal: number;
  /** photos not exported, with the reason (unlabeled with unlabeled=skip, missing on disk); first 1000 */
  skipped: { photoId: number | null; path: string; reason: string }[];
  skippedTotal: number;
  warnings: string[];
}

export interface ExportRunSummary {
  exportId: number;
  /** done | failed (e.g. disk full: resumable) | cancelled (resumable) */
  state: string;
  created: number;
  moved: number;
  identical: number;
  renamed: number;
  failed: { src: string | null; dst: string | null; error: string }[];
  failedTotal: number;
  /** items not done yet (after a cancel or a fatal error) */
  pending: number;
  bytesWritten: number;
  /** the error that stopped the export (disk full, read-only), if any */
  error: string | null;
  /** e.g. the destination was not marked with .sift-export because it holds library photos */
  warnings: string[];
  seconds: number;
}

export interface ExportUndoSummary {
  exportId: number;
  state: string;
  removed: number;
  movedBack: number;
  /** files left in place because they changed after the export (or their original is gone) */
  kept: { path: string; reason: string }[];
  failed: { path: string; error: string }[];
  seconds: number;
}

export interface ExportInfo {
  exportId: number;
  createdAt: number;
  finishedAt: number | null;
  dest: string;
  mode: ExportMode;
  template: string;
  /** planned | running | interrupted (killed: resume or undo) | cancelled | failed | done | undoing | undo-interrupted | undone */
  state: string;
  error: string | null;
  /** item counts by journal state (pending, done, skipped, failed, undone, kept) */
  counts: Record<string, number>;
  plan: ExportPlan | null;
}

const jobId = z.string().optional();

export const exportContract = {
  /** Dry run: nothing on disk changes. Stores the plan; returns counts per folder, conflicts, bytes to write. */
  'export.plan': method<ExportPlan>()(exportOptions),
  /** Runs a stored plan (exportId), or plans and runs the given options. Progress: job.progress events. */
  'export.run': method<ExportRunSummary>()(z.object({ exportId: z.number().int().optional(), options: exportOptions.optional(), jobId })
    .refine((v) => (v.exportId === undefined) !== (v.options === undefined), { message: 'give either exportId or options' })),
  /** Continues an interrupted, cancelled or failed export (a killed one included). */
  'export.resume': method<ExportRunSummary>()(z.object({ exportId: z.number().int(), jobId })),
  /** Undoes an export (default: the last one). Moves go back; created files are removed only if unchanged. */
  'export.undo': method<ExportUndoSummary>()(z.object({ exportId: z.number().int().optional(), jobId })),
  'export.list': method<ExportInfo[]>()(z.object({})),
};
