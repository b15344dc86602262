// Test fixtures: real image files written by sharp, with real EXIF (orientation, dates, camera, GPS).
// Shared by every part's tests. Small images by default so a library of hundreds is generated in ~1 s.
//
//   await makeJpeg('/tmp/x/a.jpg', { pattern: 'stripes', color: 'red', orientation: 6, takenAt: '2021-07-04T12:34:56' });
//   const lib = await makeLibrary('/tmp/lib', { groups: [{ name: 'red-stripes', count: 5, pattern: 'stripes', color: 'red' }] });
//   const lib = await makeLibrary('/tmp/lib', { groupCount: 4, perGroup: 10 });   // 4 distinct looks x 10 variants
import fs from 'node:fs';
import path from 'node:path';
import sharp, { type Sharp, type Exif } from 'sharp';
import { mulberry32 } from '../../src/util/random.ts';

export type RGB = [number, number, number];
export type Pattern = 'solid' | 'stripes' | 'checker' | 'circle' | 'gradient' | 'diagonal' | 'rings' | 'noise';
export const PATTERNS: Pattern[] = ['stripes', 'checker', 'circle', 'gradient', 'diagonal', 'rings', 'solid', 'noise'];

export const COLORS: Record<string, RGB> = {
  red: [210, 40, 40], green: [40, 170, 60], blue: [40, 70, 200], yellow: [230, 210, 40],
  purple: [140, 50, 170], orange: [240, 140, 30], cyan: [40, 190, 200], grey: [128, 128, 128],
  black: [15, 15, 15], white: [245, 245, 245], pink: [240, 120, 170], brown: [120, 80, 40],
};

export interface ImageOptions {
  /** Stored pixel size (before EXIF orientation). Default 96 x 64. */
  width?: number;
  height?: number;
  /** Main colour: a name from COLORS or [r,g,b]. Default 'grey'. */
  color?: string | RGB;
  /** Second colour of the pattern. Default: a dark shade of color. */
  accent?: string | RGB;
  pattern?: Pattern;
  /** Seed of the small variations (shape offset, colour jitter, noise): same seed = same pixels. */
  seed?: number;
  /** Amplitude of the per-pixel noise (0..255). Default 6. */
  noise?: number;
  /** Output format (by content); default jpeg. EXIF is written for jpeg/webp/tiff/png/avif when sharp can. */
  format?: 'jpeg' | 'png' | 'webp' | 'tiff' | 'gif' | 'avif' | 'heif';
  quality?: number;
  /** EXIF Orientation 1..8 (stored pixels are NOT rotated; a viewer rotates them). */
  orientation?: number;
  /** EXIF DateTimeOriginal; Date (its local time is written) or 'YYYY-MM-DDTHH:MM:SS' / 'YYYY:MM:DD HH:MM:SS'. */
  takenAt?: Date | string;
  /** EXIF CreateDate (DateTimeDigitized) and ModifyDate (IFD0 DateTime), for fallback tests. */
  createDate?: Date | string;
  modifyDate?: Date | string;
  make?: string;
  model?: string;
  gps?: { lat: number; lon: number };
  /** Extra raw EXIF entries merged in, keyed like sharp's withExif (IFD0, IFD2 = Exif, IFD3 = GPS). */
  exif?: { IFD0?: Record<string, string>; IFD2?: Record<string, string>; IFD3?: Record<string, string> };
}

function rgbOf(c: string | RGB | undefined, fallback: RGB): RGB {
  if (!c) return fallback;
  if (Array.isArray(c)) return c;
  const v = COLORS[c];
  if (!v) throw new Error(`fixtures: unknown colour ${c} (known: ${Object.keys(COLORS).join(', ')})`);
  return v;
}

/** Deterministic PRNG (mulberry32; seed 0 is taken as another constant). */
export const rng = (seed: number): (() => number) => mulberry32((seed >>> 0) || 0x9e3779b9);

/** 'YYYY:MM:DD HH:MM:SS' as EXIF writes it. */
export function exifDate(d: Date | string): string {
  if (typeof d === 'string') {
    const m = /^(\d{4})[-:](\d{2})[-:](\d{2})[T ](\d{2}):(\d{2}):(\d{2})/.exec(d);
    if (!m) throw new Error(`fixtures: bad date ${d}`);
    return `${m[1]}:${m[2]}:${m[3]} ${m[4]}:${m[5]}:${m[6]}`;
  }
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}:${p(d.getMonth() + 1)}:${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function dms(v: number): string {
  const a = Math.abs(v);
  const d = Math.floor(a);
  const mf = (a - d) * 60;
  const m = Math.floor(mf);
  const s = Math.round((mf - m) * 60 * 10000);
  return `${d}/1 ${m}/1 ${s}/10000`;
}

/** Raw RGB pixels of a pattern (width*height*3). */
export function renderPixels(opts: ImageOptions = {}): { data: Buffer; width: number; height: number } {
  const width = opts.width ?? 96;
  const height = opts.height ?? 64;
  const r = rng(opts.seed ?? 1);
  const jit = () => Math.round((r() - 0.5) * 16);
  const base = rgbOf(opts.color, COLORS.grey).map((v) => clamp(v + jit())) as RGB;
  const acc = rgbOf(opts.accent, base.map((v) => Math.round(v * 0.35)) as RGB);
  const pattern = opts.pattern ?? 'solid';
  const noise = opts.noise ?? 6;
  // small geometric variation: offset and scale of the shape
  const ox = (r() - 0.5) * 0.1 * width;
  const oy = (r() - 0.5) * 0.1 * height;
  const period = Math.max(4, Math.round(Math.min(width, height) / (6 + r() * 0.6)));
  const data = Buffer.alloc(width * height * 3);
  const cx = width / 2 + ox;
  const cy = height / 2 + oy;
  const rad = Math.min(width, height) * 0.3;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let t: number; // 0 = base colour, 1 = accent
      switch (pattern) {
        case 'stripes': t = Math.floor((x + ox) / period) % 2; break;
        case 'checker': t = (Math.floor((x + ox) / period) + Math.floor((y + oy) / period)) % 2; break;
        case 'circle': t = (x - cx) ** 2 + (y - cy) ** 2 < rad * rad ? 1 : 0; break;
        case 'gradient': t = Math.min(1, Math.max(0, (x + ox) / width)); break;
        case 'diagonal': t = Math.floor((x + y + ox) / period) % 2; break;
        case 'rings': t = Math.floor(Math.hypot(x - cx, y - cy) / (period / 1.5)) % 2; break;
        case 'noise': t = r(); break;
        default: t = 0;
      }
      const i = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = base[c] * (1 - t) + acc[c] * t + (noise ? (r() - 0.5) * noise : 0);
        data[i + c] = clamp(v);
      }
    }
  }
  return { data, width, height };
}

function clamp(v: number): number { return Math.max(0, Math.min(255, Math.round(v))); }

/** Builds the sharp pipeline (pixels + EXIF), without writing. */
export async function imagePipeline(opts: ImageOptions = {}): Promise<Sharp> {
  // large images: render the pattern at <= 256 px and let sharp scale it up (fast, even for 12 MP)
  const W = opts.width ?? 96;
  const H = opts.height ?? 64;
  const k = Math.min(1, 256 / Math.max(W, H));
  const px = renderPixels({ ...opts, width: Math.max(1, Math.round(W * k)), height: Math.max(1, Math.round(H * k)) });
  let img = sharp(px.data, { raw: { width: px.width, height: px.height, channels: 3 } });
  if (k < 1) img = sharp(await img.resize(W, H, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer(), { raw: { width: W, height: H, channels: 3 } });
  const IFD0: Record<string, string> = { ...(opts.exif?.IFD0 ?? {}) };
  const IFD2: Record<string, string> = { ...(opts.exif?.IFD2 ?? {}) };
  const IFD3: Record<string, string> = { ...(opts.exif?.IFD3 ?? {}) };
  if (opts.make) IFD0.Make = opts.make;
  if (opts.model) IFD0.Model = opts.model;
  if (opts.modifyDate) IFD0.DateTime = exifDate(opts.modifyDate);
  if (opts.takenAt) IFD2.DateTimeOriginal = exifDate(opts.takenAt);
  if (opts.createDate) IFD2.DateTimeDigitized = exifDate(opts.createDate);
  if (opts.gps) {
    IFD3.GPSLatitudeRef = opts.gps.lat >= 0 ? 'N' : 'S';
    IFD3.GPSLatitude = dms(opts.gps.lat);
    IFD3.GPSLongitudeRef = opts.gps.lon >= 0 ? 'E' : 'W';
    IFD3.GPSLongitude = dms(opts.gps.lon);
  }
  const exif: Exif = {};
  if (Object.keys(IFD0).length) exif.IFD0 = IFD0;
  if (Object.keys(IFD2).length) exif.IFD2 = IFD2;
  if (Object.keys(IFD3).length) exif.IFD3 = IFD3;
  if (Object.keys(exif).length) img = img.withExif(exif);
  if (opts.orientation && opts.orientation !== 1) img = img.withMetadata({ orientation: opts.orientation });
  const q = opts.quality ?? 85;
  switch (opts.format ?? 'jpeg') {
    case 'jpeg': return img.jpeg({ quality: q });
    case 'png': return img.png();
    case 'webp': return img.webp({ quality: q });
    case 'tiff': return img.tiff({ quality: q });
    case 'gif': return img.gif();
    case 'avif': return img.avif({ quality: q, effort: 0 });
    case 'heif': return img.heif({ quality: q, compression: 'av1', effort: 0 });
  }
}

/** Writes a real image file (JPEG by default) with EXIF. Creates the folder. Returns the path. */
export async function makeJpeg(file: string, opts: ImageOptions = {}): Promise<string> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await (await imagePipeline(opts)).toFile(file);
  return file;
}
/** Same as makeJpeg; the name reads better for other formats. */
export const makeImage = makeJpeg;

/** Image bytes without writing a file. */
export async function makeImageBuffer(opts: ImageOptions = {}): Promise<Buffer> {
  return (await imagePipeline(opts)).toBuffer();
}

export interface GroupSpec extends Omit<ImageOptions, 'seed'> {
  /** Folder/name prefix of the group; default `${color}-${pattern}`. */
  name?: string;
  /** Number of look-alike photos in the group. */
  count: number;
  /** Sub-folder (relative to dir) the group's photos go in; default: the group name. '' = dir itself. */
  folder?: string;
}

export interface LibrarySpec {
  /** Explicit groups of look-alike photos. */
  groups?: GroupSpec[];
  /** Or: this many automatically distinct groups (pattern x colour combinations)... */
  groupCount?: number;
  /** ...of this many photos each. */
  perGroup?: number;
  /** Defaults applied to every photo (size, format, make...). */
  defaults?: Omit<ImageOptions, 'seed'>;
  /** Base of the photos' capture times (one minute apart); default 2020-01-01T10:00:00. false: no dates. */
  startDate?: string | false;
  /** Files written in parallel; default 8. */
  concurrency?: number;
}

export interface LibraryPhoto { file: string; group: string; index: number; opts: ImageOptions }

/** Writes a folder of photos: groups of look-alike photos (same pattern and colour, small variations). */
export async function makeLibrary(dir: string, spec: LibrarySpec): Promise<LibraryPhoto[]> {
  const groups: GroupSpec[] = spec.groups ? [...spec.groups] : [];
  if (spec.groupCount) {
    const colors = Object.keys(COLORS);
    for (let g = 0; g < spec.groupCount; g++) {
      const pattern = PATTERNS[g % PATTERNS.length];
      const color = colors[(g * 5 + Math.floor(g / PATTERNS.length)) % colors.length];
      groups.push({ count: spec.perGroup ?? 5, pattern, color, name: `g${String(g).padStart(2, '0')}-${color}-${pattern}` });
    }
  }
  const photos: LibraryPhoto[] = [];
  const start = spec.startDate === false ? null : new Date(spec.startDate ?? '2020-01-01T10:00:00');
  let k = 0;
  for (const g of groups) {
    const name = g.name ?? `${typeof g.color === 'string' ? g.color : 'rgb'}-${g.pattern ?? 'solid'}`;
    const folder = g.folder ?? name;
    for (let i = 0; i < g.count; i++) {
      const { count: _c, name: _n, folder: _f, ...rest } = g;
      const opts: ImageOptions = { ...spec.defaults, ...rest, seed: 1000 * (k + 1) + i };
      if (start && !opts.takenAt) opts.takenAt = new Date(start.getTime() + photos.length * 60_000);
      const ext = (opts.format ?? 'jpeg') === 'jpeg' ? 'jpg' : opts.format!;
      photos.push({ file: path.join(dir, folder, `${name}-${String(i).padStart(3, '0')}.${ext}`), group: name, index: i, opts });
    }
    k++;
  }
  fs.mkdirSync(dir, { recursive: true });
  const conc = spec.concurrency ?? 8;
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(conc, photos.length) }, async () => {
    while (next < photos.length) {
      const p = photos[next++];
      await makeJpeg(p.file, p.opts);
    }
  }));
  return photos;
}

/** Bad files for robustness tests. Returns their paths by kind. */
export async function makeBadFiles(dir: string): Promise<Record<'truncated' | 'zero' | 'text' | 'pngNamedJpg', string>> {
  fs.mkdirSync(dir, { recursive: true });
  const full = await makeImageBuffer({ width: 256, height: 192, pattern: 'noise', color: 'blue' });
  const truncated = path.join(dir, 'truncated.jpg');
  fs.writeFileSync(truncated, full.subarray(0, Math.floor(full.length / 3)));
  const zero = path.join(dir, 'zero.jpg');
  fs.writeFileSync(zero, Buffer.alloc(0));
  const text = path.join(dir, 'text.jpg');
  fs.writeFileSync(text, 'this is not a photo, just some text\n'.repeat(20));
  const pngNamedJpg = path.join(dir, 'really-a-png.jpg');
  await makeJpeg(pngNamedJpg, { format: 'png', pattern: 'checker', color: 'green' });
  return { truncated, zero, text, pngNamedJpg };
}
