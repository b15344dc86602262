// Where the gallery's photos come from: a filter -> a paged source over the engine API.
// Label/unlabeled/suggested filters use the learning engine's methods when this engine has them.
import type { Photo, Suggestion } from '../../src/api/contract/index.ts';
import { call } from './host.ts';

export type Filter =
  | { kind: 'all' }
  | { kind: 'failed' }
  | { kind: 'unlabeled' }
  | { kind: 'suggested' }
  | { kind: 'label'; id: number; name: string }
  | { kind: 'ids'; key: string; ids: number[] };

export interface PhotoSource {
  count(): Promise<number>;
  page(offset: number, limit: number): Promise<Photo[]>;
}

export function filterKey(f: Filter): string {
  switch (f.kind) {
    case 'label': return `label:${f.id}`;
    case 'ids': return `ids:${f.key}`;
    default: return f.kind;
  }
}

/** A source over a fixed list of ids (cluster members, label members...). */
export function idsSource(loadIds: () => Promise<number[]>): PhotoSource {
  let ids: Promise<number[]> | null = null;
  const get = () => (ids ??= loadIds());
  return {
    count: async () => (await get()).length,
    page: async (offset, limit) => {
      const slice = (await get()).slice(offset, offset + limit);
      if (!slice.length) return [];
      const rows = await call('library.photos', { ids: slice, status: 'all' });
      const byId = new Map(rows.map((r) => [r.id, r]));
      return slice.map((id) => byId.get(id)).filter((p): p is Photo => !!p);
    },
  };
}

function statusSource(status: 'all' | 'failed'): PhotoSource {
  return {
    count: async () => {
      const s = await call('library.status', {});
      return status === 'all' ? s.photos : s.failed;
    },
    page: (offset, limit) => call('library.photos', { status, offset, limit }),
  };
}

/** Pages through the whole review queue (learn.suggestions), up to `cap` items. */
async function queueItems(cap = 20_000) {
  const out: Suggestion[] = [];
  for (let offset = 0; offset < cap; offset += 1000) {
    const page = await call('learn.suggestions', { offset, limit: 1000 });
    out.push(...page.items);
    if (offset + 1000 >= page.total) break;
  }
  return out;
}

/**
 * Learning-engine queries the gallery needs. The API has no "photos carrying label X" query yet, so:
 *   label X   = photos of the clusters named X, plus queue items currently labelled X (photos confirmed
 *               outside those clusters are missing: see docs/ui.md);
 *   unlabeled = review-queue items without a label (up to 20,000);
 *   suggested = every label's suggestions (learn.suggestions per label).
 */
export const learnFilters = {
  has(_kind: 'unlabeled' | 'suggested' | 'label'): boolean {
    return true;
  },
  async ids(f: Filter): Promise<number[]> {
    if (f.kind === 'unlabeled') return (await queueItems()).filter((s) => !s.current).map((s) => s.photoId);
    if (f.kind === 'suggested') {
      const labels = await call('learn.labels', {});
      const ids = new Set<number>();
      for (const l of labels) {
        if (!l.suggested) continue;
        for (const s of (await call('learn.suggestions', { label: l.id, limit: 1000 })).items) ids.add(s.photoId);
      }
      return [...ids];
    }
    if (f.kind === 'label') {
      const ids = new Set<number>();
      const { clusters } = await call('learn.clusters', { includeNamed: true });
      for (const c of clusters) {
        if (c.label?.id !== f.id) continue;
        for (const id of (await call('learn.clusterPhotos', { id: c.id, limit: 100_000 })).photoIds) ids.add(id);
      }
      for (const s of await queueItems()) if (s.current?.labelId === f.id) ids.add(s.photoId);
      return [...ids];
    }
    return [];
  },
  canLabel(): boolean { return true; },
  /** Confirms photos as a label (created if new). */
  labelPhotos(photoIds: number[], name: string): Promise<unknown> {
    return call('learn.label', { name, photos: photoIds, clusters: [] });
  },
};

export function photoSource(f: Filter): PhotoSource {
  switch (f.kind) {
    case 'all': return statusSource('all');
    case 'failed': return statusSource('failed');
    case 'ids': return idsSource(async () => f.ids);
    default: return idsSource(() => learnFilters.ids(f));
  }
}
