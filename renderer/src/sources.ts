// Where the gallery's photos come from: a filter -> a paged source over the engine API.
// Label/unlabeled/suggested filters are exact, paged queries of the learning engine (learn.photos).
import type { Photo, Suggestion } from '../../src/api/contract/index.ts';
import { call, type CallError } from './host.ts';

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

/** Rows per page of the gallery. */
export const PAGE = 240;

/** The gallery's first page, requested before React mounts when the app opens on the gallery (main.tsx). */
let early: Promise<Photo[]> | null = null;
export function prefetchFirstPage(): void {
  early = call('library.photos', { status: 'all', offset: 0, limit: PAGE });
  early.catch(() => {});
}

function statusSource(status: 'all' | 'failed'): PhotoSource {
  return {
    count: async () => {
      const s = await call('library.status', {});
      return status === 'all' ? s.photos : s.failed;
    },
    page: (offset, limit) => {
      if (early && status === 'all' && offset === 0 && limit === PAGE) { const p = early; early = null; return p; }
      return call('library.photos', { status, offset, limit });
    },
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
 * The id lists used when the engine has no learn.photos (older engines):
 *   label X   = exact: learn.photoLabels (the label each photo effectively carries, confirmed or assigned);
 *   unlabeled = review-queue items without a label (up to 20,000): the API has no "photos without a label" query;
 *   suggested = every label's suggestions (learn.suggestions per label, up to 1,000 each).
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
      const rows = await call('learn.photoLabels', {});
      return [...new Set(rows.filter((r) => r.labelId === f.id).map((r) => r.photoId))];
    }
    return [];
  },
  canLabel(): boolean { return true; },
  /** Confirms photos as a label (created if new). */
  labelPhotos(photoIds: number[], name: string): Promise<unknown> {
    return call('learn.label', { name, photos: photoIds, clusters: [] });
  },
};

/** Library rows for ids, in the ids' order. */
async function rowsFor(ids: number[]): Promise<Photo[]> {
  if (!ids.length) return [];
  const rows = await call('library.photos', { ids, status: 'all' });
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id)).filter((p): p is Photo => !!p);
}

/**
 * Exact, paged label / unlabeled / suggested filters (learn.photos). An engine without that method (an older
 * build) answers "Unknown API method": the source then falls back to the id lists of `learnFilters`.
 */
function learnSource(f: Filter & { kind: 'label' | 'unlabeled' | 'suggested' }): PhotoSource {
  const filter = f.kind;
  const label = f.kind === 'label' ? f.id : undefined;
  let fallback: PhotoSource | null = null;
  const viaFallback = (e: unknown): PhotoSource => {
    if ((e as CallError).code !== 'not_found' || !/unknown api method/i.test((e as Error).message)) throw e;
    return (fallback ??= idsSource(() => learnFilters.ids(f)));
  };
  return {
    count: async () => {
      if (fallback) return fallback.count();
      try { return (await call('learn.photos', { filter, label, offset: 0, limit: 1 })).total; } catch (e) { return viaFallback(e).count(); }
    },
    page: async (offset, limit) => {
      if (fallback) return fallback.page(offset, limit);
      try { return rowsFor((await call('learn.photos', { filter, label, offset, limit })).photoIds); } catch (e) { return viaFallback(e).page(offset, limit); }
    },
  };
}

export function photoSource(f: Filter): PhotoSource {
  switch (f.kind) {
    case 'all': return statusSource('all');
    case 'failed': return statusSource('failed');
    case 'ids': return idsSource(async () => f.ids);
    default: return learnSource(f);
  }
}
