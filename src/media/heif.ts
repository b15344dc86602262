// HEIC/HEIF decoding with libheif (wasm), for HEVC-coded files the prebuilt sharp cannot decode.
// libheif applies the HEIF transformations (irot/imir/clap); EXIF Orientation is NOT applied on top
// (the HEIF spec takes the rotation from irot; applying both would turn iPhone photos twice).
import fs from 'node:fs';
import { createRequire } from 'node:module';

interface HeifImage {
  get_width(): number;
  get_height(): number;
  display(img: { data: Uint8ClampedArray; width: number; height: number }, cb: (r: { data: Uint8ClampedArray } | null) => void): void;
  free?(): void;
}
interface LibHeif { HeifDecoder: new () => { decode(buf: Uint8Array): HeifImage[] } }

let lib: LibHeif | undefined;
function libheif(): LibHeif {
  if (!lib) {
    const require = createRequire(import.meta.url);
    const wasmBinary = fs.readFileSync(require.resolve('libheif-js/libheif-wasm/libheif.wasm'));
    // printErr: libheif's own messages would go to stderr; its errors reach us as exceptions/null results
    lib = require('libheif-js/libheif-wasm/libheif.js')({ wasmBinary, print: () => {}, printErr: () => {} }) as LibHeif;
  }
  return lib;
}

export interface RawImage { data: Buffer; width: number; height: number; channels: 4 }

/** Size of the primary image (after irot), without decoding pixels. */
export function heifSize(buf: Uint8Array): { width: number; height: number } {
  const images = decodeContainer(buf);
  try { return { width: images[0].get_width(), height: images[0].get_height() }; } finally { for (const i of images) i.free?.(); }
}

function decodeContainer(buf: Uint8Array): HeifImage[] {
  let images: HeifImage[];
  try {
    images = new (libheif().HeifDecoder)().decode(buf);
  } catch (e) {
    throw new Error(`damaged HEIC file (${(e as Error).message})`, { cause: e });
  }
  if (!images.length) throw new Error('damaged HEIC file (no readable image; the file may be truncated)');
  return images;
}

/** Decodes the primary image to RGBA. maxPixels guards against decompression bombs. */
export async function decodeHeif(buf: Uint8Array, maxPixels: number): Promise<RawImage> {
  const images = decodeContainer(buf);
  try {
    const img = images[0];
    const width = img.get_width();
    const height = img.get_height();
    if (maxPixels > 0 && width * height > maxPixels) throw new Error(tooLarge(width, height, maxPixels));
    const data = new Uint8ClampedArray(width * height * 4);
    const out = await new Promise<{ data: Uint8ClampedArray } | null>((resolve) => img.display({ data, width, height }, resolve));
    if (!out) throw new Error('damaged HEIC file (image data could not be decoded)');
    return { data: Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength), width, height, channels: 4 };
  } finally {
    for (const i of images) i.free?.();
  }
}

export function tooLarge(w: number, h: number, max: number): string {
  return `image too large: ${w} x ${h} = ${((w * h) / 1e6).toFixed(0)} megapixels, above the limit of ${(max / 1e6).toFixed(0)} megapixels (possible decompression bomb)`;
}
