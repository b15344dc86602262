// The real default models (built by `npm run build:models`, which `npm ci` runs in CI through postinstall).
// Skipped, with the reason, only when they have not been built.
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { makeJpeg } from '../helpers/fixtures.ts';
import { VisionRuntime } from '../../src/vision/runtime.ts';
import { DEFAULT_MODEL_SET } from '../../src/vision/registry.ts';
import { openDb } from '../../src/store/db.ts';
import { dot, tempDir } from './helpers/setup.ts';

const MODELS = path.resolve(import.meta.dirname, '../../resources/models');
const built = fs.existsSync(path.join(MODELS, 'centernet.json')) && fs.existsSync(path.join(MODELS, 'mobilenet_v2_mid.json'));
let rt: VisionRuntime | null = null;
afterAll(async () => { await rt?.close(); });

describe.skipIf(!built)('the default 424-d embedding with the real converted models', () => {
  it('resolves to 424 dimensions with the 80 COCO labels as tags', () => {
    const dir = tempDir();
    rt = new VisionRuntime({ db: openDb(path.join(dir, 'a.db')), modelsDir: MODELS, userModelsDir: path.join(dir, 'none') });
    const set = rt.resolved();
    expect(set.id).toBe(DEFAULT_MODEL_SET.id);
    expect(set.dim).toBe(424);
    expect(set.tags?.labels).toHaveLength(80);
    expect(set.tags?.labels).toEqual(expect.arrayContaining(['person', 'cat', 'dog', 'car', 'pizza']));
  });

  it('gives deterministic unit vectors; a resized recompressed copy is the nearest neighbour', async () => {
    const dir = tempDir();
    const looks = [['stripes', 'red'], ['checker', 'blue'], ['circle', 'green'], ['rings', 'yellow']] as const;
    const files: string[] = [];
    for (let i = 0; i < looks.length; i++) files.push(await makeJpeg(path.join(dir, `p${i}.jpg`), { pattern: looks[i][0], color: looks[i][1], width: 800, height: 600, seed: i, noise: 12 }));
    const copy = path.join(dir, 'copy.jpg');
    await sharp(files[2]).resize(300).jpeg({ quality: 50 }).toFile(copy);
    const res = await rt!.embedItems([...files, copy, files[0]].map((p, i) => ({ photoId: i, path: p })));
    for (const r of res) {
      expect(r.error).toBeUndefined();
      expect(r.vector).toHaveLength(424);
      expect(dot(r.vector!, r.vector!)).toBeCloseTo(1, 5);
      expect(r.tags).toHaveLength(80);
    }
    expect(Array.from(res[5].vector!)).toEqual(Array.from(res[0].vector!));
    const sims = files.map((_, i) => dot(res[4].vector!, res[i].vector!));
    expect(sims.indexOf(Math.max(...sims))).toBe(2);
  });
});
