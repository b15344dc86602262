import { z } from 'zod';
import { method } from './define.ts';

// The learning loop: clusters of unlabeled photos, labels, corrections, suggestions (review queue), undo/redo.
// Every output is plain JSON. Ids: photo ids are library photo ids; cluster ids are stable numbers (the CLI
// writes them `c12`); labels are referred to by name (case-insensitive) or id.

export interface LabelInfo {
  id: number;
  name: string;
  /** photos the user confirmed (or moved) into this label */
  confirmed: number;
  /** photos that carry the label because the user named their cluster */
  assigned: number;
  /** photos without this label that the classifier suggests for it (confidence >= threshold) */
  suggested: number;
  /** photos the user said are NOT this label */
  rejected: number;
}

export interface ClusterInfo {
  id: number;
  size: number;
  /** mean cosine similarity of members to the centroid (whitened PCA space), 0..1, higher = tighter */
  cohesion: number;
  /** members without a label (confirmed or assigned) */
  unlabeled: number;
  /** most representative photo ids first (up to 12) */
  representatives: number[];
  /** the label the user gave this cluster, if any */
  label: { id: number; name: string } | null;
  /** a name proposed from per-photo object tags (vision photo_tags) or the labels of its photos, if any */
  suggestedName: string | null;
}

export interface ClusterList {
  modelSet: string | null;
  /** unnamed clusters first (by size × cohesion), then named ones */
  clusters: ClusterInfo[];
  /** photos (with an embedding and no label) left out of every cluster */
  unclustered: number;
  clusteredAt: number | null;
}

export interface ClusterSummary {
  modelSet: string;
  photos: number;
  clusters: number;
  unclustered: number;
  /** ids kept from the previous clustering (matched by shared photos) */
  kept: number;
  seconds: number;
}

export interface Suggestion {
  photoId: number;
  /** predicted label, or null = 'unknown' (confidence below the threshold) */
  label: string | null;
  labelId: number | null;
  /** calibrated probability of the predicted label */
  confidence: number;
  /** best minus second-best probability (small = the model is unsure) */
  margin: number;
  /** the label the photo carries now (if any) and how */
  current: { labelId: number; label: string; state: 'confirmed' | 'assigned' } | null;
  clusterId: number | null;
  /** near the border of its cluster */
  border: boolean;
  /** review priority, higher first */
  score: number;
  reason: 'disagrees' | 'uncertain' | 'border' | 'unlabeled' | 'confident';
}

export interface SuggestionPage {
  items: Suggestion[];
  total: number;
  offset: number;
  threshold: number;
  trainedOn: { confirmed: number; assigned: number; rejected: number; labels: number };
}

export interface JournalEntry { id: number; at: number; kind: string; summary: string; undone: boolean }

export interface ChangeResult {
  /** the journal entry of the change (undo target), null when nothing changed */
  entry: JournalEntry | null;
  /** photos whose labels changed */
  changed: number;
  label?: { id: number; name: string };
  clusterId?: number;
}

const labelRef = z.union([z.string().trim().min(1), z.number().int()]);
const photoIds = z.array(z.number().int()).min(1);

export const learnContract = {
  'learn.labels': method<LabelInfo[]>()(z.object({})),
  /** Clusters the photos that have an embedding and no label; ids are matched to the previous run. */
  'learn.cluster': method<ClusterSummary>()(z.object({
    minClusterSize: z.number().int().min(2).optional(),
    sampleSize: z.number().int().min(50).max(20_000).optional(),
  })),
  'learn.clusters': method<ClusterList>()(z.object({ includeNamed: z.boolean().default(true) })),
  /** Photo ids of one cluster, most central first. */
  'learn.clusterPhotos': method<{ total: number; photoIds: number[] }>()(z.object({
    id: z.number().int(), offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(100_000).default(200),
  })),
  /**
   * Exact, paged gallery filters. 'label': photos effectively carrying the label (v_photo_labels; label required);
   * 'unlabeled': ok photos with no effective label; 'suggested': photos without an effective label whose current
   * prediction (>= threshold) is the label (any label when none is given), most confident first; 'confirmed':
   * user-confirmed photos (of the label if given). Others are ordered by photo id.
   */
  'learn.photos': method<{ total: number; photoIds: number[] }>()(z.object({
    filter: z.enum(['label', 'unlabeled', 'suggested', 'confirmed']),
    label: labelRef.optional(),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(100_000).default(200),
  })),
  /** The label each photo effectively carries (the same rows as the view v_photo_labels); all photos when ids is omitted. */
  'learn.photoLabels': method<{ photoId: number; labelId: number; label: string; state: 'confirmed' | 'assigned' }[]>()(z.object({
    photos: z.array(z.number().int()).optional(),
  })),
  'learn.createLabel': method<LabelInfo>()(z.object({ name: z.string().trim().min(1).max(200) })),
  'learn.renameLabel': method<ChangeResult>()(z.object({ label: labelRef, name: z.string().trim().min(1).max(200) })),
  'learn.mergeLabels': method<ChangeResult>()(z.object({ from: labelRef, into: labelRef })),
  'learn.deleteLabel': method<ChangeResult>()(z.object({ label: labelRef })),
  /** Names clusters (their unlabeled photos get the label as 'assigned') and/or confirms photos; creates the label if new. */
  'learn.label': method<ChangeResult>()(z.object({
    name: z.string().trim().min(1).max(200),
    clusters: z.array(z.number().int()).default([]),
    photos: z.array(z.number().int()).default([]),
  })),
  /** Confirms photos as `label` (moving them out of any other label). Bulk "confirm all N shown". */
  'learn.confirm': method<ChangeResult>()(z.object({ label: labelRef, photos: photoIds })),
  /** "Not <label>": the label is removed and never suggested again for these photos. */
  'learn.reject': method<ChangeResult>()(z.object({ label: labelRef, photos: photoIds })),
  /** Splits photos off into a new cluster; with a name they are also confirmed as that label. */
  'learn.split': method<ChangeResult>()(z.object({ photos: photoIds, name: z.string().trim().min(1).max(200).optional() })),
  /** Merges cluster `from` into cluster `into` (photos follow `into`'s label if it is named). */
  'learn.mergeClusters': method<ChangeResult>()(z.object({ from: z.number().int(), into: z.number().int() })),
  /** Review queue (no label: most informative first) or suggestions for one label (most confident first). */
  'learn.suggestions': method<SuggestionPage>()(z.object({
    label: labelRef.optional(),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(1000).default(50),
  })),
  'learn.undo': method<{ entry: JournalEntry | null }>()(z.object({})),
  'learn.redo': method<{ entry: JournalEntry | null }>()(z.object({})),
  'learn.journal': method<JournalEntry[]>()(z.object({ limit: z.number().int().min(1).max(10_000).default(50) })),
};
