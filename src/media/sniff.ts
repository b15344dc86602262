// Image type by content (magic bytes), never by file extension.
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif' | 'heif';

export type SniffResult = { format: ImageFormat } | { format: null; what: string };

/** Bytes of the file head sniff() needs. */
export const SNIFF_BYTES = 64;

const ascii = (b: Uint8Array, from: number, to: number) => String.fromCharCode(...b.subarray(from, to));

export function sniff(head: Uint8Array): SniffResult {
  if (head.length === 0) return { format: null, what: 'empty file (0 bytes)' };
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return { format: 'jpeg' };
  if (head.length >= 8 && head[0] === 0x89 && ascii(head, 1, 4) === 'PNG') return { format: 'png' };
  if (head.length >= 6 && (ascii(head, 0, 6) === 'GIF87a' || ascii(head, 0, 6) === 'GIF89a')) return { format: 'gif' };
  if (head.length >= 12 && ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return { format: 'webp' };
  if (head.length >= 4 && ((head[0] === 0x49 && head[1] === 0x49 && head[2] === 0x2a && head[3] === 0x00) ||
    (head[0] === 0x4d && head[1] === 0x4d && head[2] === 0x00 && head[3] === 0x2a))) return { format: 'tiff' };
  if (head.length >= 12 && ascii(head, 4, 8) === 'ftyp') {
    const boxSize = (head[0] << 24 | head[1] << 16 | head[2] << 8 | head[3]) >>> 0;
    const major = ascii(head, 8, 12);
    const brands = [major];
    for (let o = 16; o + 4 <= Math.min(boxSize, head.length); o += 4) brands.push(ascii(head, o, o + 4));
    if (brands.includes('avif') || brands.includes('avis')) return { format: 'avif' };
    if (brands.some((b) => ['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1', 'heif'].includes(b))) return { format: 'heif' };
    return { format: null, what: `not a photo (ISO media file of type "${major.trim()}", e.g. a video)` };
  }
  return { format: null, what: describeUnknown(head) };
}

function describeUnknown(head: Uint8Array): string {
  if (head[0] === 0xff && head[1] === 0xd8) return 'damaged JPEG (invalid header)';
  let printable = 0;
  for (const b of head) if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 0xc2) printable++;
  if (printable === head.length) return 'not an image (the file contains text)';
  return 'not an image (unrecognised content)';
}
