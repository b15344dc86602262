// One photo, start to finish, off the main thread: read, sniff, hash, metadata, thumbnail, optional pixels.
// Runs in the index worker (src/library/index.worker.ts); pure functions of the file, no database.
import fs from 'node:fs';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import sharp, { type Sharp, type SharpOptions } from 'sharp';
import { sniff, type ImageFormat } from './sniff.ts';
import { readMeta, EMPTY_META, type PhotoMeta } from './meta.ts';
import { decodeHeif, tooLarge } from './heif.ts';
import { xxh128Hex } from '../util/hash.ts';

sharp.concurrency(1); // one libvips thread per worker: the pool gives the parallelism
sharp.cache(false);

export const DEFAULT_MAX_PIXELS = 268_402_689; // sharp's default limitInputPixels (16383 x 16383)
export const THUMB_SIZE = 320;

export interface ProcessTask {
  path: string;
  thumbsDir: string;
  /** Long side of the returned pixels (0 = none). */
  pixelSize: number;
  thumbSize?: number;
  maxPixels?: number;
}

export interface ProcessOk {
  ok: true;
  size: number;
  mtimeMs: number;
  hash: string;
  format: ImageFormat;
  width: number;
  height: number;
  meta: PhotoMeta;
  /** Thumbnail path relative to thumbsDir. */
  thumb: string;
  /** Set when the image decoded only with warnings (damaged but partly readable). */
  warning: string | null;
  pixels?: { data: Uint8Array; width: number; height: number; channels: 3 };
}
export interface ProcessFailed {
  ok: false;
  error: string;
  /** The file no longer exists (deleted or moved during the scan). */
  gone?: boolean;
  size?: number;
  mtimeMs?: number;
  hash?: string;
  format?: ImageFormat | null;
}
export type ProcessResult = ProcessOk | ProcessFailed;

const MAX_READ_BYTES = 1024 * 1024 * 1024;

export function thumbRel(hash: string): string {
  return path.join(hash.slice(0, 2), `${hash}.jpg`);
}

function fsReason(e: NodeJS.ErrnoException): { error: string; gone?: boolean } {
  switch (e.code) {
    case 'ENOENT': return { error: 'the file disappeared during the scan (deleted or moved)', gone: true };
    case 'EACCES': case 'EPERM': return { error: `cannot read the file: permission denied (${e.code})` };
    case 'EISDIR': return { error: 'not a file' };
    case 'EIO': return { error: 'cannot read the file: input/output error (disk or network problem)' };
    default: return { error: `cannot read the file: ${e.message}` };
  }
}

/** Turns a libvips/sharp error into a clear reason for the user. */
export function decodeReason(msg: string, format: ImageFormat | null): string {
  const m = [...new Set(msg.split('\n').map((l) => l.replace(/^Input (file|buffer) has corrupt header: /, '').replace(/^VipsJpeg: /, '').replace(/^\S+: (?=bad seek|corrupt)/, '').trim()).filter(Boolean))].join('; ');
  if (/pixel limit|exceeds pixel/i.test(m)) return 'image too large (above the pixel limit; possible decompression bomb)';
  if (/Unsupported codec|Unsupported feature/i.test(m) && (format === 'heif' || format === 'avif')) return 'HEIC not supported: this HEVC-coded HEIC could not be decoded';
  if (/unsupported image format/i.test(m)) return 'not an image (unsupported or unrecognised format)';
  if (/corrupt header|premature end|truncated|Invalid|bad seek|unexpected end/i.test(m)) return `damaged ${label(format)} file: ${m.slice(0, 160)}`;
  // the content says it is an image of this type, but it does not decode: damaged
  return /^unknown error$/i.test(m) ? `damaged ${label(format)} file: it could not be decoded` : `damaged ${label(format)} file: ${m.slice(0, 200)}`;
}
const label = (f: ImageFormat | null) => (f === 'heif' ? 'HEIC' : f ? f.toUpperCase() : 'image');

export async function processPhoto(task: ProcessTask): Promise<ProcessResult> {
  const maxPixels = task.maxPixels ?? DEFAULT_MAX_PIXELS;
  const thumbSize = task.thumbSize ?? THUMB_SIZE;
  let buf: Buffer;
  let size: number;
  let mtimeMs: number;
  try {
    const st = await fs.promises.stat(task.path);
    if (!st.isFile()) return { ok: false, error: 'not a regular file' };
    size = st.size;
    mtimeMs = Math.floor(st.mtimeMs);
    if (size > MAX_READ_BYTES) return { ok: false, error: `file too large to be a photo (${(size / 2 ** 30).toFixed(1)} GB)`, size, mtimeMs };
    buf = await fs.promises.readFile(task.path);
  } catch (e) {
    return { ok: false, ...fsReason(e as NodeJS.ErrnoException) };
  }
  size = buf.length;
  const sn = sniff(buf.subarray(0, 64));
  const hash = buf.length ? xxh128Hex(buf) : undefined;
  if (sn.format === null) return { ok: false, error: sn.what, size, mtimeMs, hash, format: null };
  const format = sn.format;

  let meta: PhotoMeta = await readMeta(buf);
  const sharpOpts: SharpOptions = { limitInputPixels: maxPixels, failOn: 'error', autoOrient: false };
  let input: () => Sharp;
  let width: number;
  let height: number;
  let warning: string | null = null;
  try {
    const md = await sharp(buf, { ...sharpOpts, limitInputPixels: false }).metadata(); // header only; the limit is checked below
    if (md.width * md.height > maxPixels) return { ok: false, error: tooLarge(md.width, md.height, maxPixels), size, mtimeMs, hash, format };
    if (!meta.takenAt && !meta.gps && md.exif) {
      const m2 = await readMeta(md.exif);
      meta = { ...m2, orientation: meta.orientation ?? m2.orientation };
    }
    width = md.autoOrient?.width ?? md.width;
    height = md.autoOrient?.height ?? md.height;
    if (meta.orientation === null && md.orientation) meta.orientation = md.orientation;
    input = () => sharp(buf, sharpOpts).rotate();
    if (format === 'heif') {
      // sharp reads the container; probe a tiny decode: prebuilt sharp has no HEVC decoder
      await sharp(buf, sharpOpts).resize(8, 8, { fit: 'inside' }).raw().toBuffer();
    }
  } catch (e) {
    const msg = String((e as Error).message);
    if (format === 'heif' && /Unsupported|codec|compression|bad seek|corrupt/i.test(msg)) {
      try {
        const raw = await decodeHeif(buf, maxPixels);
        width = raw.width;
        height = raw.height;
        // libheif applied irot/imir: the EXIF Orientation is informational only for HEIF
        input = () => sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: 4 }, limitInputPixels: maxPixels });
      } catch (e2) {
        const m2 = String((e2 as Error).message);
        return { ok: false, error: /too large|damaged/.test(m2) ? m2 : `HEIC not supported: ${m2}`, size, mtimeMs, hash, format };
      }
    } else {
      return { ok: false, error: decodeReason(msg, format), size, mtimeMs, hash, format };
    }
  }
  if (!meta) meta = { ...EMPTY_META };

  const rel = thumbRel(hash!);
  const dest = path.join(task.thumbsDir, rel);
  // a thumbnail already there (a duplicate, a move, a rescan) is reused; touching it tells the cache's garbage
  // collection (src/library/thumbs.ts) that a row is about to name it
  let needThumb = false;
  try { const t = new Date(); fs.utimesSync(dest, t, t); } catch (e) {
    needThumb = (e as NodeJS.ErrnoException).code === 'ENOENT' || !fs.existsSync(dest); // not ours to touch: reuse as is
  }
  try {
    if (task.pixelSize > 0 || needThumb) {
      const r = await render(input, width, height, needThumb ? thumbSize : 0, task.pixelSize);
      if (r.thumb) await writeAtomic(dest, r.thumb);
      const out: ProcessOk = { ok: true, size, mtimeMs, hash: hash!, format, width, height, meta, thumb: rel, warning };
      if (r.pixels) out.pixels = r.pixels;
      return out;
    }
  } catch (e) {
    const msg = String((e as Error).message);
    // Any decode error (libvips' error text is process-wide, so with several worker threads it is sometimes
    // just "Unknown error"): try once more leniently; if that decodes, the file is damaged but readable.
    if (!/pixel limit|exceeds pixel|Unsupported/i.test(msg)) {
      // damaged but partly readable: show what decodes, and say so
      try {
        const lenient = () => sharp(buf, { ...sharpOpts, failOn: 'none' }).rotate();
        const r = await render(lenient, width, height, needThumb ? thumbSize : 0, task.pixelSize);
        if (r.thumb) await writeAtomic(dest, r.thumb);
        const why = msg.replace(/\s+/g, ' ').replace(/^VipsJpeg: /, '').slice(0, 120);
        warning = `damaged ${label(format)}: decoded partially${/unknown error/i.test(why) ? '' : ` (${why})`}`;
        const out: ProcessOk = { ok: true, size, mtimeMs, hash: hash!, format, width, height, meta, thumb: rel, warning };
        if (r.pixels) out.pixels = r.pixels;
        return out;
      } catch (e2) {
        return { ok: false, error: decodeReason(String((e2 as Error).message), format), size, mtimeMs, hash, format };
      }
    }
    return { ok: false, error: decodeReason(msg, format), size, mtimeMs, hash, format };
  }
  return { ok: true, size, mtimeMs, hash: hash!, format, width, height, meta, thumb: rel, warning };
}

async function render(input: () => Sharp, width: number, height: number, thumbSize: number, pixelSize: number): Promise<{ thumb?: Buffer; pixels?: ProcessOk['pixels'] }> {
  const out: { thumb?: Buffer; pixels?: ProcessOk['pixels'] } = {};
  if (pixelSize <= 0) {
    out.thumb = await input().resize(thumbSize, thumbSize, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' }).jpeg({ quality: 80, mozjpeg: false }).toBuffer();
    return out;
  }
  // one decode at the larger size, then both outputs from the small raw image
  const L = Math.max(thumbSize, pixelSize);
  const { data, info } = await input().resize(L, L, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' }).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels as 3 } };
  if (thumbSize > 0) {
    out.thumb = await sharp(data, raw).resize(thumbSize, thumbSize, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 80 }).toBuffer();
  }
  const long = Math.max(width, height);
  if (Math.max(info.width, info.height) <= pixelSize || long <= pixelSize) {
    out.pixels = { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: 3 };
  } else {
    const p = await sharp(data, raw).resize(pixelSize, pixelSize, { fit: 'inside' }).raw().toBuffer({ resolveWithObject: true });
    out.pixels = { data: new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength), width: p.info.width, height: p.info.height, channels: 3 };
  }
  return out;
}

/** Never a half-written file: write a temp file next to it, then rename. */
export async function writeAtomic(dest: string, data: Uint8Array): Promise<void> {
  await fs.promises.mkdir(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.${process.pid}.${threadId}.tmp`;
  await fs.promises.writeFile(tmp, data);
  await fs.promises.rename(tmp, dest);
}
