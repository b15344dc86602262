// The web test host's /thumb/:id and /photo/:id on a real library (real engine, SQLite, sharp, files): the file
// served is a regular file whose real path lies inside the thumbnails folder / a library folder. Symlinks
// swapped in for a photo or a thumbnail, rows pointing outside, directories and missing photos are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeJpeg } from '../helpers/fixtures.ts';
import { startWebHost, type WebHost } from '../../web/server.ts';

let tmp: string;
let host: WebHost;
let lib: string;
let outside: string;
const ids: Record<string, number> = {};

const get = (p: string, method = 'GET') => fetch(`${host.origin}${p}`, { method, headers: { 'x-sift-token': host.token } });
const status = async (p: string) => (await get(p)).status;
const db = () => host.engine.ctx.db;

beforeAll(async () => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'sift-web-')));
  lib = path.join(tmp, 'library');
  outside = path.join(tmp, 'outside');
  const staticDir = path.join(tmp, 'static');
  fs.mkdirSync(staticDir);
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Sift</title>'); // no renderer build needed
  for (const n of ['a', 'b', 'c', 'd', 'e', 'f']) await makeJpeg(path.join(lib, `${n}.jpg`), { color: 'red', pattern: 'noise', seed: n.charCodeAt(0), width: 64, height: 48 });
  await makeJpeg(path.join(outside, 'secret.jpg'), { color: 'black', seed: 99 });
  host = await startWebHost({ dbPath: path.join(tmp, 'db', 'sift.db'), staticDir, log: false });
  host.engine.ctx.stages.length = 0;
  await host.engine.call('library.index', { roots: [lib], stages: false });
  for (const p of await host.engine.call('library.photos', {})) ids[path.basename(p.path, '.jpg')] = p.id;
});

afterAll(async () => {
  await host?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('web host media', () => {
  it('serves a photo and its thumbnail', async () => {
    const r = await get(`/photo/${ids.a}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await r.arrayBuffer()).equals(fs.readFileSync(path.join(lib, 'a.jpg')))).toBe(true);
    const t = await get(`/thumb/${ids.a}`);
    expect(t.status).toBe(200);
    const thumb = (await host.engine.call('library.photo', { id: ids.a })).thumbnail!;
    expect(Buffer.from(await t.arrayBuffer()).equals(fs.readFileSync(thumb))).toBe(true);
    expect((await get(`/thumb/${ids.a}`, 'HEAD')).status).toBe(200);
  });

  it('refuses a photo file replaced by a symlink leading out of the library', async () => {
    const f = path.join(lib, 'b.jpg');
    fs.rmSync(f);
    fs.symlinkSync(path.join(outside, 'secret.jpg'), f);
    expect(await status(`/photo/${ids.b}`)).toBe(403);
    // a symlink that stays inside the library is fine
    fs.rmSync(f);
    fs.symlinkSync(path.join(lib, 'a.jpg'), f);
    expect(await status(`/photo/${ids.b}`)).toBe(200);
  });

  it('refuses a thumbnail replaced by a symlink leading out of the thumbnails folder', async () => {
    const thumb = (await host.engine.call('library.photo', { id: ids.c })).thumbnail!;
    expect(await status(`/thumb/${ids.c}`)).toBe(200);
    fs.rmSync(thumb);
    fs.symlinkSync(path.join(outside, 'secret.jpg'), thumb);
    const r = await get(`/thumb/${ids.c}`);
    expect(r.status).toBe(403);
    expect(await r.text()).not.toContain('JFIF');
  });

  it('refuses rows that point outside: a photo path outside every library folder, a thumbnail climbing out', async () => {
    db().prepare('UPDATE photos SET path = ? WHERE id = ?').run(path.join(outside, 'secret.jpg'), ids.d);
    expect(await status(`/photo/${ids.d}`)).toBe(403);
    db().prepare('UPDATE photos SET thumb = ? WHERE id = ?').run(path.join('..', '..', '..', 'outside', 'secret.jpg'), ids.d);
    expect((await host.engine.call('library.photo', { id: ids.d })).thumbnail).toBe(path.join(outside, 'secret.jpg'));
    expect(await status(`/thumb/${ids.d}`)).toBe(403);
  });

  it('refuses directories and answers 404 for missing photos and unknown ids', async () => {
    const dir = path.join(lib, 'folder.jpg');
    fs.mkdirSync(dir);
    db().prepare('UPDATE photos SET path = ? WHERE id = ?').run(dir, ids.e);
    expect(await status(`/photo/${ids.e}`)).toBe(403);
    db().prepare("UPDATE photos SET status = 'missing' WHERE id = ?").run(ids.f);
    expect(await status(`/photo/${ids.f}`)).toBe(404);
    expect(await status('/photo/999999')).toBe(404);
    expect(await status('/thumb/1e3')).toBe(400);
  });

  it('follows library changes: a folder removed from the library serves nothing', async () => {
    const other = path.join(tmp, 'other');
    await makeJpeg(path.join(other, 'o.jpg'), { color: 'green', seed: 7 });
    await host.engine.call('library.index', { roots: [other], stages: false });
    const id = (await host.engine.call('library.photos', {})).find((p) => p.path.startsWith(other))!.id;
    expect(await status(`/photo/${id}`)).toBe(200);
    // the row stays (as if the removal had not reached it) but its folder is no library folder any more
    db().prepare('DELETE FROM roots WHERE path = ?').run(other);
    host.engine.ctx.emit({ type: 'library.changed' });
    expect(await status(`/photo/${id}`)).toBe(403);
  });
});
