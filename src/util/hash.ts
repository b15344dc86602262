// The library's content hash: xxh3-128 as 32 hex digits (photos.hash, the export journal, the thumbnail cache).
// xxhash-addon wraps the reference C xxHash (SIMD: about 40-57 GB/s on this machine against 6-7 GB/s for a
// WebAssembly build and 2.2 GB/s for @node-rs/xxhash, same digest); its N-API prebuilds load in Node and Electron.
// The export's copy worker (copy.worker.mjs, plain JavaScript) calls the same function of the same package.
import { createRequire } from 'node:module';

interface XXHash128Static { hash(data: Uint8Array): Buffer }
const { XXHash128 } = createRequire(import.meta.url)('xxhash-addon') as { XXHash128: XXHash128Static };

/** xxh3-128 (seed 0) of the bytes (a string as UTF-8), 32 lower-case hex digits. */
export function xxh128Hex(data: Uint8Array | string): string {
  return XXHash128.hash(typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('hex');
}
