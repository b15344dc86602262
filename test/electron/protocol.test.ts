// The sift:// protocol's decisions (main/protocol-core.ts), on a real folder tree with real JPEGs and symlinks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, parseSiftUrl, readChecked, realFileInside, type PhotoRecord, type ProtocolDeps } from '../../main/protocol-core.ts';
import { photoUrl, thumbUrl } from '../../main/ipc-channels.ts';

let tmp: string;
let deps: ProtocolDeps;
const photos = new Map<number, PhotoRecord>();
let jpegBytes: Buffer;

async function jpeg(file: string, color: { r: number; g: number; b: number }): Promise<Buffer> {
  const buf = await sharp({ create: { width: 32, height: 24, channels: 3, background: color } })
    .jpeg()
    .withExif({ IFD0: { Make: 'SiftTest', Model: 'Protocol' } })
    .toBuffer();
  fs.writeFileSync(file, buf);
  return buf;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sift-proto-'));
  const thumbs = path.join(tmp, 'data', 'thumbnails');
  const root = path.join(tmp, 'library');
  const outside = path.join(tmp, 'outside');
  const renderer = path.join(tmp, 'renderer');
  for (const d of [thumbs, root, outside, path.join(renderer, 'assets')]) fs.mkdirSync(d, { recursive: true });

  jpegBytes = await jpeg(path.join(thumbs, '1.jpg'), { r: 200, g: 10, b: 10 });
  await jpeg(path.join(root, 'a.jpg'), { r: 10, g: 200, b: 10 });
  await jpeg(path.join(outside, 'secret.jpg'), { r: 1, g: 2, b: 3 });
  fs.writeFileSync(path.join(outside, 'passwd.jpg'), 'root:x:0:0');
  fs.writeFileSync(path.join(root, 'notes.txt'), 'not an image');
  fs.writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>Sift</title>');
  fs.writeFileSync(path.join(renderer, 'assets', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(renderer, 'secret.key'), 'k');
  fs.writeFileSync(path.join(tmp, 'package.json'), '{}');
  // symlinks that lead out of their allowed folder
  fs.symlinkSync(path.join(outside, 'secret.jpg'), path.join(thumbs, '2.jpg'));
  fs.symlinkSync(outside, path.join(thumbs, 'escape'));
  fs.symlinkSync(path.join(outside, 'secret.jpg'), path.join(root, 'link.jpg'));
  fs.symlinkSync(path.join(outside, 'secret.jpg'), path.join(renderer, 'assets', 'leak.js'));
  fs.mkdirSync(path.join(thumbs, 'dir.jpg'));
  // sibling folders whose names start with the allowed folder's name: a plain string-prefix check would let them in
  fs.mkdirSync(`${thumbs}-evil`);
  fs.mkdirSync(`${root}-evil`);
  await jpeg(path.join(`${thumbs}-evil`, 'x.jpg'), { r: 9, g: 9, b: 9 });
  await jpeg(path.join(`${root}-evil`, 'y.jpg'), { r: 8, g: 8, b: 8 });
  // a name that starts with two dots is an ordinary file inside the folder
  await jpeg(path.join(thumbs, '..dots.jpg'), { r: 7, g: 7, b: 7 });

  photos.set(1, { path: path.join(root, 'a.jpg'), thumbnail: path.join(thumbs, '1.jpg'), status: 'ok' });
  photos.set(2, { path: path.join(root, 'link.jpg'), thumbnail: path.join(thumbs, '2.jpg'), status: 'ok' });
  photos.set(3, { path: path.join(outside, 'secret.jpg'), thumbnail: path.join(thumbs, 'escape', 'secret.jpg'), status: 'ok' });
  photos.set(4, { path: path.join(root, 'a.jpg'), thumbnail: `${thumbs}/../../outside/passwd.jpg`, status: 'missing' });
  photos.set(5, { path: path.join(root, 'notes.txt'), thumbnail: null, status: 'ok' });
  photos.set(6, { path: 'relative/a.jpg', thumbnail: path.join(thumbs, 'dir.jpg'), status: 'ok' });
  photos.set(7, { path: path.join(root, 'gone.jpg'), thumbnail: path.join(thumbs, 'gone.jpg'), status: 'ok' });
  photos.set(8, { path: path.join(`${root}-evil`, 'y.jpg'), thumbnail: path.join(`${thumbs}-evil`, 'x.jpg'), status: 'ok' });
  photos.set(9, { path: path.join(root, 'a.jpg'), thumbnail: path.join(thumbs, '..dots.jpg'), status: 'ok' });

  deps = {
    thumbsDir: async () => thumbs,
    rendererDir: renderer,
    photo: async (id) => photos.get(id) ?? null,
    roots: async () => [root],
  };
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const status = async (url: string, method = 'GET') => {
  const d = await decide(url, method, deps);
  return d.ok ? 200 : d.status;
};

describe('sift:// URL parsing', () => {
  it('accepts exactly sift://thumb|photo/<positive integer>', () => {
    expect(parseSiftUrl('sift://thumb/1')).toEqual({ ok: true, req: { kind: 'thumb', id: 1 } });
    expect(parseSiftUrl('sift://photo/123456')).toEqual({ ok: true, req: { kind: 'photo', id: 123456 } });
    // what the preload hands the renderer parses back to the same request
    expect(parseSiftUrl(thumbUrl(42))).toEqual({ ok: true, req: { kind: 'thumb', id: 42 } });
    expect(parseSiftUrl(photoUrl(7))).toEqual({ ok: true, req: { kind: 'photo', id: 7 } });
  });

  it.each([
    'sift://thumb/abc', 'sift://thumb/1.5', 'sift://thumb/-1', 'sift://thumb/0', 'sift://thumb/01', 'sift://thumb/1e3',
    'sift://thumb/0x10', 'sift://thumb/', 'sift://thumb', 'sift://thumb/1/2', 'sift://thumb/99999999999999999999',
    'sift://thumb/%31', 'sift://thumb/1%00', 'sift://thumb/1%2F..%2F2', 'sift://photo/..%2F..%2Fetc%2Fpasswd',
    'sift://thumb/1;x', 'sift://thumb/ 1',
  ])('rejects a bad id: %s', (url) => {
    const r = parseSiftUrl(url);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.status).toBe(400);
  });

  it.each([
    ['sift://evil/1', 403], ['sift:///1', 403], ['file:///etc/passwd', 400], ['https://thumb/1', 400],
    ['sift://user:pw@thumb/1', 400], ['sift://thumb:8080/1', 400], ['not a url', 400],
  ] as const)('rejects other hosts and schemes: %s', (url, code) => {
    const r = parseSiftUrl(url);
    expect(r).toMatchObject({ ok: false, status: code });
  });

  it('normalises encoded dot segments like Chromium does, so they never climb out', async () => {
    // WHATWG URL parsing turns %2e%2e into '..' and resolves it before the handler sees the path.
    expect(parseSiftUrl('sift://photo/%2e%2e/1')).toEqual({ ok: true, req: { kind: 'photo', id: 1 } });
    expect(parseSiftUrl('sift://app/%2e%2e/%2e%2e/package.json')).toEqual({ ok: true, req: { kind: 'app', relPath: 'package.json' } });
    // <tmp>/package.json exists one level above the renderer folder: it is not served.
    expect(await status('sift://app/%2e%2e/%2e%2e/package.json')).toBe(404);
    expect(await status('sift://app/assets/../../package.json')).toBe(404);
  });

  it('rejects methods other than GET/HEAD', () => {
    expect(parseSiftUrl('sift://thumb/1', 'POST')).toMatchObject({ ok: false, status: 405 });
    expect(parseSiftUrl('sift://thumb/1', 'HEAD').ok).toBe(true);
  });

  it.each([
    'sift://app/..%2F..%2Fpackage.json', 'sift://app/assets%2f..%2f..%2fpackage.json',
    'sift://app/a%5c..%5cb.js', 'sift://app/index.html%00.png', 'sift://app/%E0%A4%A',
  ])('rejects encoded traversal in app paths: %s', (url) => {
    expect(parseSiftUrl(url)).toMatchObject({ ok: false, status: 400 });
  });
});

describe('sift:// decisions on disk', () => {
  it('serves a library thumbnail and photo, with their bytes', async () => {
    const t = await decide('sift://thumb/1', 'GET', deps);
    expect(t).toMatchObject({ ok: true, kind: 'thumb', contentType: 'image/jpeg' });
    if (t.ok) expect((await readChecked(t.file)).equals(jpegBytes)).toBe(true);
    const p = await decide('sift://photo/1', 'GET', deps);
    expect(p).toMatchObject({ ok: true, kind: 'photo', contentType: 'image/jpeg' });
    if (p.ok) {
      const meta = await sharp(await readChecked(p.file)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 32, 24]);
    }
  });

  it('answers 404 for unknown ids and missing files', async () => {
    expect(await status('sift://thumb/999')).toBe(404);
    expect(await status('sift://photo/999')).toBe(404);
    expect(await status('sift://photo/4')).toBe(404); // status missing
    expect(await status('sift://thumb/5')).toBe(404); // no thumbnail yet
    expect(await status('sift://thumb/7')).toBe(403); // file vanished: not a file inside the folder
  });

  it('refuses symlinks leading out of the thumbnails folder and the library roots', async () => {
    expect(await status('sift://thumb/2')).toBe(403); // thumbs/2.jpg -> outside/secret.jpg
    expect(await status('sift://thumb/3')).toBe(403); // thumbs/escape/ -> outside/
    expect(await status('sift://photo/2')).toBe(403); // library/link.jpg -> outside/secret.jpg
    expect(await status('sift://app/assets/leak.js')).toBe(404);
  });

  it('refuses records that point outside, non-images, directories and relative paths', async () => {
    expect(await status('sift://thumb/4')).toBe(403); // thumbs/../../outside/passwd.jpg
    expect(await status('sift://photo/3')).toBe(403); // a photo outside every root
    expect(await status('sift://photo/5')).toBe(403); // .txt is not served
    expect(await status('sift://thumb/6')).toBe(403); // a directory named dir.jpg
    expect(await status('sift://photo/6')).toBe(403); // relative path
  });

  it('treats a failing engine lookup as an unknown photo', async () => {
    const failing: ProtocolDeps = { ...deps, photo: async () => { throw new Error('engine down'); } };
    expect(await decide('sift://thumb/1', 'GET', failing)).toMatchObject({ ok: false, status: 404 });
  });

  it('serves the built renderer and nothing beside it', async () => {
    expect(await decide('sift://app/', 'GET', deps)).toMatchObject({ ok: true, kind: 'app', contentType: 'text/html; charset=utf-8' });
    expect(await decide('sift://app/assets/app.js', 'GET', deps)).toMatchObject({ ok: true, contentType: 'text/javascript; charset=utf-8' });
    expect(await status('sift://app/secret.key')).toBe(403);
    expect(await status('sift://app/../package.json')).toBe(404); // URL normalises to /package.json, not in the renderer
    expect(await status('sift://app/nope.js')).toBe(404);
    expect(await decide('sift://app/index.html', 'GET', { ...deps, rendererDir: null })).toMatchObject({ ok: false, status: 404 });
  });

  it('realFileInside and readChecked do not follow links out', async () => {
    const thumbs = await deps.thumbsDir();
    expect(await realFileInside(thumbs, path.join(thumbs, '1.jpg'))).toBe(fs.realpathSync(path.join(thumbs, '1.jpg')));
    expect(await realFileInside(thumbs, thumbs)).toBeNull();
    expect(await realFileInside(thumbs, 'thumbnails/1.jpg')).toBeNull();
    // sibling folders sharing the name as a prefix (both exist and hold real files): neither is inside the other
    const evil = path.join(`${thumbs}-evil`, 'x.jpg');
    expect(fs.statSync(evil).isFile()).toBe(true);
    expect(await realFileInside(thumbs, evil)).toBeNull();
    expect(await realFileInside(`${thumbs}-evil`, path.join(thumbs, '1.jpg'))).toBeNull();
    expect(await realFileInside(`${thumbs}-evil`, evil)).toBe(fs.realpathSync(evil)); // the file itself is fine
    // ...and through decide(): a thumbnail / photo in the sibling folder is refused
    expect(await status('sift://thumb/8')).toBe(403);
    expect(await status('sift://photo/8')).toBe(403);
    // a file whose name starts with '..' is inside
    expect(await realFileInside(thumbs, path.join(thumbs, '..dots.jpg'))).toBe(fs.realpathSync(path.join(thumbs, '..dots.jpg')));
    expect(await status('sift://thumb/9')).toBe(200);
    // a symlink at the final component is refused when opened (O_NOFOLLOW)
    await expect(readChecked(path.join(thumbs, '2.jpg'))).rejects.toThrow(/ELOOP|symbolic/i);
  });
});
