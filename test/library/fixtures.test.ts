import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import exifr from 'exifr';
import { makeJpeg, makeLibrary, makeBadFiles } from '../helpers/fixtures.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sift-fix-'));

describe('test fixtures', () => {
  it('writes a JPEG with orientation, dates, camera and GPS', async () => {
    const f = await makeJpeg(path.join(tmp(), 'a.jpg'), {
      width: 80, height: 40, pattern: 'stripes', color: 'red', orientation: 6,
      takenAt: '2021-07-04T12:34:56', make: 'Canon', model: 'EOS 5D', gps: { lat: -33.8688, lon: 151.2093 },
    });
    const m = await sharp(f).metadata();
    expect(m.format).toBe('jpeg');
    expect([m.width, m.height, m.orientation]).toEqual([80, 40, 6]);
    expect(m.autoOrient).toEqual({ width: 40, height: 80 });
    const e = await exifr.parse(f, { reviveValues: false, translateValues: false });
    expect(e.DateTimeOriginal).toBe('2021:07:04 12:34:56');
    expect(e.Make).toBe('Canon');
    expect(e.latitude).toBeCloseTo(-33.8688, 3);
    expect(e.longitude).toBeCloseTo(151.2093, 3);
  });

  it('makes groups of look-alike but distinct photos', async () => {
    const dir = tmp();
    const lib = await makeLibrary(dir, { groupCount: 3, perGroup: 4 });
    expect(lib).toHaveLength(12);
    const stats = await Promise.all(lib.map(async (p) => [...await sharp(p.file).resize(16, 16, { fit: 'fill' }).raw().toBuffer()]));
    const dist = (a: number[], b: number[]) => Math.hypot(...a.map((v, i) => v - b[i]));
    for (let g = 0; g < 3; g++) {
      for (let o = 0; o < 3; o++) {
        if (o === g) continue;
        // look-alikes of a group are closer to each other than to any photo of another group
        expect(dist(stats[g * 4], stats[g * 4 + 1])).toBeLessThan(dist(stats[g * 4], stats[o * 4]));
      }
    }
    const bytes = new Set(lib.map((p) => fs.readFileSync(p.file).toString('base64')));
    expect(bytes.size).toBe(12); // every photo differs
  });

  it('makes bad files', async () => {
    const bad = await makeBadFiles(tmp());
    expect(fs.statSync(bad.zero).size).toBe(0);
    expect((await sharp(bad.pngNamedJpg).metadata()).format).toBe('png');
    await expect(sharp(bad.text).metadata()).rejects.toThrow();
  });
});
