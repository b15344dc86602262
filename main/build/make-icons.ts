// Renders resources/icons/icon.svg into the PNG icons electron-builder uses:
//   resources/icons/icon.png            1024x1024 (macOS dmg/icns and Windows ico are derived from it)
//   resources/icons/png/<N>x<N>.png     16..512 (Linux AppImage/deb hicolor sizes)
// Run: npx tsx main/build/make-icons.ts   (the desktop tests check the PNGs match the SVG).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export const iconSizes = [16, 32, 48, 64, 128, 256, 512];

export function iconsDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'resources', 'icons');
}

/** The icon rendered from the SVG at `size` px, as PNG bytes. */
export async function renderIcon(size: number, dir = iconsDir()): Promise<Buffer> {
  const svg = fs.readFileSync(path.join(dir, 'icon.svg'));
  return sharp(svg, { density: Math.max(72, Math.ceil((72 * size) / 1024)) })
    .resize(size, size)
    .png({ compressionLevel: 9 })
    .toBuffer();
}

export async function makeIcons(dir = iconsDir()): Promise<string[]> {
  const written: string[] = [];
  fs.mkdirSync(path.join(dir, 'png'), { recursive: true });
  const main = path.join(dir, 'icon.png');
  fs.writeFileSync(main, await renderIcon(1024, dir));
  written.push(main);
  for (const size of iconSizes) {
    const file = path.join(dir, 'png', `${size}x${size}.png`);
    fs.writeFileSync(file, await renderIcon(size, dir));
    written.push(file);
  }
  return written;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = await makeIcons();
  console.log(files.map((f) => path.relative(process.cwd(), f)).join('\n'));
}
