// What the sift:// protocol asks the engine (through the API only): a photo's path and thumbnail, the library
// roots, the thumbnails folder. A gallery asks for dozens of thumbnails at once, so lookups requested in the
// same tick are coalesced into one `library.photos {ids}` call, and answers are cached (bounded) until main
// calls invalidate() on `library.changed`. Pure of Electron (tested with a real Engine).
import type { SiftClient } from '../src/api/contract/index.ts';
import type { PhotoRecord, ProtocolDeps } from './protocol-core.ts';

export interface CachedProtocolDeps extends ProtocolDeps {
  /** Forgets cached photos and roots (call on library.changed). */
  invalidate(): void;
}

/** At most this many ids per engine call (a SQL json_each list). */
const BATCH_MAX = 500;

export function engineProtocolDeps(opts: {
  client: () => SiftClient;
  thumbsDir: () => Promise<string>;
  rendererDir: string | null;
  cacheMax?: number;
}): CachedProtocolDeps {
  const cacheMax = opts.cacheMax ?? 20_000;
  const photos = new Map<number, PhotoRecord>();
  let roots: Promise<string[]> | null = null;
  let queue: Map<number, ((rec: PhotoRecord | null) => void)[]> | null = null;
  let generation = 0;

  const remember = (id: number, rec: PhotoRecord) => {
    if (photos.size >= cacheMax) photos.delete(photos.keys().next().value as number);
    photos.set(id, rec);
  };

  async function flush(batch: Map<number, ((rec: PhotoRecord | null) => void)[]>, gen: number): Promise<void> {
    const ids = [...batch.keys()];
    for (let i = 0; i < ids.length; i += BATCH_MAX) {
      const chunk = ids.slice(i, i + BATCH_MAX);
      let found = new Map<number, PhotoRecord>();
      try {
        const list = await opts.client().call('library.photos', { ids: chunk, status: 'all', limit: chunk.length });
        found = new Map(list.map((p) => [p.id, { path: p.path, thumbnail: p.thumbnail, status: p.status }]));
      } catch {
        // the engine is down or refused: these ids serve nothing this time (not cached)
      }
      for (const id of chunk) {
        const rec = found.get(id) ?? null;
        if (rec && gen === generation) remember(id, rec);
        for (const resolve of batch.get(id) ?? []) resolve(rec);
      }
    }
  }

  return {
    thumbsDir: opts.thumbsDir,
    rendererDir: opts.rendererDir,
    photo(id) {
      const hit = photos.get(id);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve) => {
        if (!queue) {
          const q = new Map<number, ((rec: PhotoRecord | null) => void)[]>();
          queue = q;
          const gen = generation;
          setImmediate(() => {
            if (queue === q) queue = null;
            void flush(q, gen);
          });
        }
        const waiting = queue.get(id);
        if (waiting) waiting.push(resolve);
        else queue.set(id, [resolve]);
      });
    },
    roots() {
      roots ??= opts.client().call('library.status', {}).then(
        (s) => s.roots.map((r) => r.path),
        (err: unknown) => {
          roots = null;
          throw err;
        },
      );
      return roots;
    },
    invalidate() {
      generation++;
      photos.clear();
      roots = null;
    },
  };
}
