// Where the gallery's photos come from: a filter -> a paged source over the engine API.
// Label/unlabeled/suggested filters use the learning engine's methods when this engine has them.
import type { Photo } from '../../src/api/contract/index.ts';
import { call, callLoose, has } from './host.ts';

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

/** Learning-engine queries the gallery needs, bound to whatever methods the engine has. */
export const learnFilters = {
  has(_kind: 'unlabeled' | 'suggested' | 'label'): boolean {
    return has(LEARN.photoIds);
  },
  ids(f: Filter): Promise<number[]> {
    const q = f.kind === 'label' ? { labelId: f.id } : f.kind === 'unlabeled' ? { unlabeled: true } : { suggested: true };
    return callLoose<number[]>(LEARN.photoIds, q);
  },
  canLabel(): boolean { return has(LEARN.label); },
  labelPhotos(photoIds: number[], name: string): Promise<unknown> {
    return callLoose(LEARN.label, { photoIds, label: name });
  },
};

/** Names of the learning engine's methods this UI uses (kept in one place while that API lands). */
export const LEARN = {
  photoIds: 'learn.photoIds',
  label: 'learn.label',
};

export function photoSource(f: Filter): PhotoSource {
  switch (f.kind) {
    case 'all': return statusSource('all');
    case 'failed': return statusSource('failed');
    case 'ids': return idsSource(async () => f.ids);
    default: return idsSource(() => learnFilters.ids(f));
  }
}
