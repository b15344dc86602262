// Deterministic synthetic RGB images (0..255 integer values as float32, NHWC, batch 1) for conversion checks:
// smooth gradients, a few discs and rectangles, and a little noise, from a seed. Same seed -> same bytes everywhere.
export { mulberry32 } from '../../util/random.ts';
import { mulberry32 } from '../../util/random.ts';

export function syntheticImage(seed: number, height: number, width: number): Float32Array {
  const rnd = mulberry32(seed);
  const out = new Float32Array(height * width * 3);
  const base = [rnd() * 255, rnd() * 255, rnd() * 255];
  const grad = [rnd() * 2 - 1, rnd() * 2 - 1, rnd() * 2 - 1];
  const shapes = Array.from({ length: 6 }, () => ({
    disc: rnd() < 0.5,
    cx: rnd() * width, cy: rnd() * height,
    r: (0.05 + rnd() * 0.25) * Math.min(width, height),
    colour: [rnd() * 255, rnd() * 255, rnd() * 255],
  }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const px = [0, 1, 2].map((c) => base[c] + grad[c] * 100 * ((x / width + y / height) - 1));
      for (const s of shapes) {
        const inside = s.disc ? (x - s.cx) ** 2 + (y - s.cy) ** 2 < s.r * s.r : Math.abs(x - s.cx) < s.r && Math.abs(y - s.cy) < s.r * 0.6;
        if (inside) for (let c = 0; c < 3; c++) px[c] = s.colour[c];
      }
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) out[o + c] = Math.max(0, Math.min(255, Math.round(px[c] + (rnd() - 0.5) * 16)));
    }
  }
  return out;
}
