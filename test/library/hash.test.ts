// The content hash (src/util/hash.ts, xxhash-addon) against published xxHash vectors and an independent
// implementation (@node-rs/xxhash, Rust), across the size classes where XXH3 switches code paths
// (0, 1-3, 4-8, 9-16, 17-128, 129-240, > 240 bytes, several stripes and blocks).
import { describe, expect, it } from 'vitest';
import { xxh3 } from '@node-rs/xxhash';
import { xxh128Hex } from '../../src/util/hash.ts';

const reference = (b: Uint8Array) => xxh3.xxh128(b).toString(16).padStart(32, '0');

describe('xxh128Hex', () => {
  it('gives the published XXH3-128 digests', () => {
    expect(xxh128Hex(new Uint8Array(0))).toBe('99aa06d3014798d86001c324468d497f');
    expect(xxh128Hex('xxhash')).toBe('9c8b437c78cac00a376072e24bfdf4d2');
  });

  it('agrees with an independent implementation at every size class, as bytes and as a string', () => {
    const sizes = [1, 3, 4, 8, 9, 16, 17, 128, 129, 240, 241, 1024, 1025, 65_536, 1_000_003, 3 * 1024 * 1024 + 7];
    for (const n of sizes) {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = (i * 2654435761 >>> 13) & 255;
      const h = xxh128Hex(b);
      expect(h, `size ${n}`).toMatch(/^[0-9a-f]{32}$/);
      expect(h, `size ${n}`).toBe(reference(b));
      expect(xxh128Hex(b.subarray(1)), `size ${n - 1}, unaligned`).toBe(reference(b.subarray(1)));
    }
    expect(xxh128Hex('Zürich 📷')).toBe(reference(Buffer.from('Zürich 📷', 'utf8')));
  });
});
