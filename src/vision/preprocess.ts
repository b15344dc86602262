// One decode per photo (EXIF-rotated, shrink-on-load), then every model input derived from those pixels.
import sharp from 'sharp';
import type { DecodedPixels } from '../library/stages.ts';
import type { Fit, ModelManifest } from './registry.ts';

sharp.cache(false);

/** Decodes a photo once: EXIF orientation applied, sRGB 8-bit RGB, long side <= maxSide (JPEG shrink-on-load). */
export async function decodeForEmbedding(file: string, maxSide: number): Promise<DecodedPixels> {
  const { data, info } = await sharp(file, { sequentialRead: true })
    .rotate()
    .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: 3 };
}

/** The RGB pixels of one model input (width × height × 3) made from decoded pixels. */
export async function fitPixels(px: DecodedPixels, width: number, height: number, fit: Fit): Promise<Buffer> {
  const fitMode = fit === 'crop' ? 'cover' : fit === 'stretch' ? 'fill' : 'contain';
  const { data } = await sharp(px.data, { raw: { width: px.width, height: px.height, channels: 3 } })
    .resize(width, height, { fit: fitMode, position: 'centre', background: { r: 0, g: 0, b: 0 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return data;
}

/** Writes one model input into `out` at `offset` (elements), in the manifest's layout and normalisation. */
export function toTensorData(rgb: Uint8Array, m: ModelManifest, out: Float32Array, offset = 0): void {
  const { width, height, layout, normalisation } = m.input;
  const n = width * height;
  const sc = normalisation.scale, of = normalisation.offset;
  const a = typeof sc === 'number' ? [sc, sc, sc] : sc;
  const b = typeof of === 'number' ? [of, of, of] : of;
  if (layout === 'NHWC') {
    for (let i = 0; i < n * 3; i += 3) {
      out[offset + i] = rgb[i] * a[0] + b[0];
      out[offset + i + 1] = rgb[i + 1] * a[1] + b[1];
      out[offset + i + 2] = rgb[i + 2] * a[2] + b[2];
    }
  } else {
    for (let i = 0, j = 0; i < n; i++, j += 3) {
      out[offset + i] = rgb[j] * a[0] + b[0];
      out[offset + n + i] = rgb[j + 1] * a[1] + b[1];
      out[offset + 2 * n + i] = rgb[j + 2] * a[2] + b[2];
    }
  }
}

export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const k = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i++) v[i] *= k;
  return v;
}

/** Each part L2-normalised, concatenated, L2-normalised again. */
export function combineParts(parts: Float32Array[]): Float32Array {
  const dim = parts.reduce((s, p) => s + p.length, 0);
  const out = new Float32Array(dim);
  let o = 0;
  for (const p of parts) { out.set(l2normalize(Float32Array.from(p)), o); o += p.length; }
  return l2normalize(out);
}
