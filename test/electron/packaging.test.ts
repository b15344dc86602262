// Packaging cannot be built here (no Electron download, no macOS/Windows), so this checks what can be checked:
// electron-builder.yml passes electron-builder's own schema, targets every platform, unpacks and rebuilds the
// native modules, ships the models where main looks for them, and the icons exist and match their SVG.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { iconSizes, renderIcon } from '../../main/build/make-icons.ts';

const require = createRequire(import.meta.url);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const yaml = require('js-yaml') as { load(s: string): any };
const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as { validateConfiguration(c: unknown, l: unknown): Promise<void> };
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

const loadConfig = () => yaml.load(fs.readFileSync(path.join(repo, 'electron-builder.yml'), 'utf8'));
const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));

describe('electron-builder.yml', () => {
  it("passes electron-builder's configuration schema (which does reject a misspelt option)", async () => {
    await expect(validateConfiguration(loadConfig(), new DebugLogger(false))).resolves.toBeUndefined();
    const typo = loadConfig();
    typo.linux.tagret = ['AppImage'];
    await expect(validateConfiguration(typo, new DebugLogger(false))).rejects.toThrow(/configuration\.linux/);
  });

  it('targets Linux AppImage + deb, macOS dmg and Windows NSIS', () => {
    const c = loadConfig();
    expect(c.linux.target).toEqual(['AppImage', 'deb']);
    expect(c.mac.target).toEqual(['dmg']);
    expect(c.win.target).toEqual(['nsis']);
  });

  it('rebuilds and unpacks the native modules, which are real production dependencies', () => {
    const c = loadConfig();
    expect(c.npmRebuild).toBe(true);
    expect(c.asar).toBe(true);
    for (const native of ['better-sqlite3', 'onnxruntime-node', 'sharp', 'xxhash-addon']) {
      expect(pkg.dependencies[native], `${native} in dependencies`).toBeTruthy();
      expect(c.asarUnpack, native).toContain(`**/node_modules/${native}/**`);
    }
    expect(c.asarUnpack).toContain('**/*.node');
    expect(c.asarUnpack).toContain('**/node_modules/@img/**'); // sharp's libvips
    // nothing excluded from the package is something main or the engine imports at run time
    const excluded = (c.files as string[]).filter((f) => f.startsWith('!node_modules/{')).flatMap((f) => f.slice('!node_modules/{'.length, f.indexOf('}')).split(','));
    expect(excluded.length).toBeGreaterThan(0);
    for (const name of excluded) expect(['better-sqlite3', 'onnxruntime-node', 'sharp', 'piscina', 'zod', 'exifr', 'fdir', 'tsx', 'libheif-js', 'xxhash-addon']).not.toContain(name);
  });

  it('ships the app build and the models where main looks for them', () => {
    const c = loadConfig();
    expect(c.files).toContain('out/**');
    expect(pkg.main).toBe('out/main/index.js');
    expect(c.extraResources).toEqual([{ from: 'resources/models', to: 'models', filter: ['**/*'] }]);
    const mainSrc = fs.readFileSync(path.join(repo, 'main', 'index.ts'), 'utf8');
    expect(mainSrc).toContain("path.join(process.resourcesPath, 'models')");
  });
});

describe('icons', () => {
  it('exist at every size electron-builder needs, as real PNGs of that size', async () => {
    const c = loadConfig();
    const big = await sharp(path.join(repo, c.icon)).metadata();
    expect([big.format, big.width, big.height]).toEqual(['png', 1024, 1024]);
    for (const size of iconSizes) {
      const m = await sharp(path.join(repo, c.linux.icon, `${size}x${size}.png`)).metadata();
      expect([m.format, m.width, m.height], `${size}`).toEqual(['png', size, size]);
    }
  });

  it('match their SVG source (regenerate with: npx tsx main/build/make-icons.ts)', async () => {
    for (const size of [256, 1024]) {
      const file = size === 1024 ? path.join(repo, 'resources', 'icons', 'icon.png') : path.join(repo, 'resources', 'icons', 'png', `${size}x${size}.png`);
      const a = await sharp(file).raw().toBuffer();
      const b = await sharp(await renderIcon(size)).raw().toBuffer();
      expect(a.length).toBe(b.length);
      let diff = 0;
      for (let i = 0; i < a.length; i++) diff += Math.abs(a[i] - b[i]);
      expect(diff / a.length, `mean pixel difference at ${size}px`).toBeLessThan(2);
    }
  });
});
