// The sift:// protocol as main wires it (protocol-deps.ts + protocol-core.ts), against a real Engine that has
// indexed a generated library: real ids serve real thumbnails and photos; everything else is refused.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, type SiftClient } from '../../src/api/engine.ts';
import { decide, readChecked } from '../../main/protocol-core.ts';
import { engineProtocolDeps, type CachedProtocolDeps } from '../../main/protocol-deps.ts';
import { makeLibrary } from '../helpers/fixtures.ts';

let tmp: string;
let engine: Engine;
let deps: CachedProtocolDeps;
let ids: number[];
const calls: string[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sift-proto-engine-'));
  const lib = path.join(tmp, 'photos');
  await makeLibrary(lib, { groupCount: 2, perGroup: 2, defaults: { width: 320, height: 240 } });
  engine = new Engine({ dbPath: path.join(tmp, 'db', 'sift.db'), modelsDir: path.join(tmp, 'no-models') });
  await engine.call('library.addRoot', { path: lib });
  const summary = await engine.call('library.index', { roots: [lib], stages: false });
  expect(summary.failed).toEqual([]);
  ids = (await engine.call('library.photos', { status: 'ok' })).map((p) => p.id);
  const counting: SiftClient = {
    call: (name, input) => {
      calls.push(name);
      return engine.call(name, input);
    },
    onEvent: (fn) => engine.onEvent(fn),
  };
  deps = engineProtocolDeps({ client: () => counting, thumbsDir: async () => engine.ctx.thumbsDir, rendererDir: null });
}, 120_000);

afterAll(() => {
  engine?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('sift:// over a real engine', () => {
  it('serves the thumbnail and the original of every indexed photo', async () => {
    expect(ids.length).toBe(4);
    for (const id of ids) {
      const t = await decide(`sift://thumb/${id}`, 'GET', deps);
      expect(t, `thumb ${id}`).toMatchObject({ ok: true, kind: 'thumb' });
      if (t.ok) {
        const m = await sharp(await readChecked(t.file)).metadata();
        expect(Math.max(m.width ?? 0, m.height ?? 0)).toBeGreaterThan(0);
      }
      const p = await decide(`sift://photo/${id}`, 'GET', deps);
      expect(p, `photo ${id}`).toMatchObject({ ok: true, kind: 'photo', contentType: 'image/jpeg' });
      if (p.ok) expect((await sharp(await readChecked(p.file)).metadata()).width).toBe(320);
    }
  });

  it('refuses ids the library does not have', async () => {
    const unknown = Math.max(...ids) + 1000;
    expect(await decide(`sift://thumb/${unknown}`, 'GET', deps)).toMatchObject({ ok: false, status: 404 });
    expect(await decide(`sift://photo/${unknown}`, 'GET', deps)).toMatchObject({ ok: false, status: 404 });
  });

  it('caches lookups until invalidated, and notices a photo deleted on disk', async () => {
    const id = ids[0];
    await decide(`sift://photo/${id}`, 'GET', deps);
    const before = calls.length;
    await decide(`sift://photo/${id}`, 'GET', deps);
    await decide(`sift://thumb/${id}`, 'GET', deps);
    expect(calls.slice(before)).toEqual([]); // served from the cache
    const photo = await engine.call('library.photo', { id });
    fs.rmSync(photo.path);
    expect(await decide(`sift://photo/${id}`, 'GET', deps)).toMatchObject({ ok: false, status: 403 });
    deps.invalidate();
    await decide(`sift://photo/${id}`, 'GET', deps);
    expect(calls.slice(before)).toContain('library.photos');
  });

  it('coalesces the lookups of thumbnails requested together into one engine call', async () => {
    deps.invalidate();
    const before = calls.length;
    const all = await Promise.all(ids.slice(1).map((id) => decide(`sift://thumb/${id}`, 'GET', deps)));
    expect(all.every((d) => d.ok)).toBe(true);
    expect(calls.slice(before)).toEqual(['library.photos']);
  });
});
