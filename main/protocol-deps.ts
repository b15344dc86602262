// What the sift:// protocol asks the engine (through the API only): a photo's path and thumbnail, the library
// roots, the thumbnails folder. Small caches keep gallery scrolling from costing an engine round trip per
// thumbnail; main drops them on `library.changed`. Pure of Electron (tested with a real Engine).
import type { Photo, SiftClient } from '../src/api/contract/index.ts';
import type { PhotoRecord, ProtocolDeps } from './protocol-core.ts';

export interface CachedProtocolDeps extends ProtocolDeps {
  /** Forgets cached photos and roots (call on library.changed). */
  invalidate(): void;
}

export function engineProtocolDeps(opts: {
  client: () => SiftClient;
  thumbsDir: () => Promise<string>;
  rendererDir: string | null;
  cacheMax?: number;
}): CachedProtocolDeps {
  const cacheMax = opts.cacheMax ?? 20_000;
  const photos = new Map<number, PhotoRecord>();
  let roots: Promise<string[]> | null = null;
  return {
    thumbsDir: opts.thumbsDir,
    rendererDir: opts.rendererDir,
    async photo(id) {
      const hit = photos.get(id);
      if (hit) return hit;
      let p: Photo;
      try {
        p = await opts.client().call('library.photo', { id });
      } catch {
        return null; // unknown id (or the engine is down): nothing to serve
      }
      const rec: PhotoRecord = { path: p.path, thumbnail: p.thumbnail, status: p.status };
      if (photos.size >= cacheMax) photos.delete(photos.keys().next().value as number);
      photos.set(id, rec);
      return rec;
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
      photos.clear();
      roots = null;
    },
  };
}
