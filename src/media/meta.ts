// EXIF metadata with exifr: capture time, orientation, GPS, camera.
import exifr from 'exifr';

export interface PhotoMeta {
  /** ISO 8601 local time 'YYYY-MM-DDTHH:MM:SS' (EXIF has no zone): DateTimeOriginal, else CreateDate, else ModifyDate. */
  takenAt: string | null;
  orientation: number | null;
  gps: { lat: number; lon: number } | null;
  make: string | null;
  model: string | null;
}

export const EMPTY_META: PhotoMeta = { takenAt: null, orientation: null, gps: null, make: null, model: null };

/** 'YYYY:MM:DD HH:MM:SS' (or with '-' / 'T') -> 'YYYY-MM-DDTHH:MM:SS'; null when absent or invalid (e.g. 0000:00:00). */
export function exifDateToIso(v: unknown): string | null {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString().slice(0, 19);
  if (typeof v !== 'string') return null;
  const m = /^\s*(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?/.exec(v);
  if (!m) return null;
  const [y, mo, d, h, mi, s = '00'] = m.slice(1);
  if (+y < 1800 || +mo < 1 || +mo > 12 || +d < 1 || +d > 31 || +h > 23 || +mi > 59 || +s > 60) return null;
  return `${y}-${mo}-${d}T${h}:${mi}:${s}`;
}

const clean = (v: unknown): string | null => {
  if (typeof v !== 'string') return null;
  // eslint-disable-next-line no-control-regex
  const s = v.replace(/\u0000/g, '').trim();
  return s ? s : null;
};

/** Reads the metadata of an image buffer. Never throws: unreadable metadata gives nulls. */
export async function readMeta(buf: Uint8Array): Promise<PhotoMeta> {
  let e: Record<string, unknown> | undefined;
  try {
    e = await exifr.parse(buf, {
      tiff: true, exif: true, gps: true, ifd1: false, interop: false, xmp: false, icc: false, iptc: false, jfif: false, ihdr: false,
      reviveValues: false, translateValues: false, mergeOutput: true,
    });
  } catch {
    return { ...EMPTY_META };
  }
  if (!e) return { ...EMPTY_META };
  const lat = e.latitude as number | undefined;
  const lon = e.longitude as number | undefined;
  const orientation = typeof e.Orientation === 'number' && e.Orientation >= 1 && e.Orientation <= 8 ? e.Orientation : null;
  return {
    takenAt: exifDateToIso(e.DateTimeOriginal) ?? exifDateToIso(e.CreateDate) ?? exifDateToIso(e.ModifyDate),
    orientation,
    gps: Number.isFinite(lat) && Number.isFinite(lon) && !(lat === 0 && lon === 0) && Math.abs(lat!) <= 90 && Math.abs(lon!) <= 180 ? { lat: lat!, lon: lon! } : null,
    make: clean(e.Make),
    model: clean(e.Model),
  };
}
