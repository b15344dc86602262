// The decision logic of the sift:// protocol, pure of Electron so vitest tests it directly.
//
//   sift://thumb/<id>   the cached thumbnail of library photo <id> (must resolve inside the thumbnails dir)
//   sift://photo/<id>   the original file of library photo <id> (must resolve inside one of the library roots)
//   sift://app/<path>   the built renderer (must resolve inside the renderer dir)
//
// Everything else is refused: other hosts, non-GET methods, ids that are not plain positive integers, encoded
// slashes or dots, NUL bytes, unknown ids, files that are not regular files, symlinks leading out of their
// allowed folder, and file types that are not images (for thumb/photo). Paths are compared after realpath, and
// the file is opened with O_NOFOLLOW on its real path, so a symlink swapped in after the check is not followed.
import fs from 'node:fs';
import path from 'node:path';

export type Rejection = { ok: false; status: 400 | 403 | 404 | 405; reason: string };
export type SiftRequest = { kind: 'thumb' | 'photo'; id: number } | { kind: 'app'; relPath: string };

const reject = (status: Rejection['status'], reason: string): Rejection => ({ ok: false, status, reason });

const ID_RE = /^\/([1-9][0-9]{0,15})$/;

/** Parses and checks the URL alone (no file system). */
export function parseSiftUrl(raw: string, method = 'GET'): { ok: true; req: SiftRequest } | Rejection {
  if (method !== 'GET' && method !== 'HEAD') return reject(405, `method ${method} not allowed`);
  if (raw.includes('\0')) return reject(400, 'NUL in URL');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return reject(400, 'malformed URL');
  }
  if (url.protocol !== 'sift:') return reject(400, `not a sift: URL (${url.protocol})`);
  if (url.username || url.password || url.port) return reject(400, 'credentials or port in URL');
  const host = url.hostname.toLowerCase();
  if (host === 'thumb' || host === 'photo') {
    const m = ID_RE.exec(url.pathname);
    if (!m) return reject(400, `bad photo id in ${url.pathname}`);
    const id = Number(m[1]);
    if (!Number.isSafeInteger(id)) return reject(400, 'photo id out of range');
    return { ok: true, req: { kind: host, id } };
  }
  if (host === 'app') {
    const p = url.pathname;
    // Refuse encoded separators, dots and backslashes outright: a legitimate asset path never needs them.
    if (/%2f|%5c|%2e|%00/i.test(p) || p.includes('\\')) return reject(400, 'encoded separator in path');
    let decoded: string;
    try {
      decoded = decodeURIComponent(p);
    } catch {
      return reject(400, 'bad percent-encoding');
    }
    const segs = decoded.split('/').filter((s) => s !== '');
    if (segs.some((s) => s === '..' || s === '.')) return reject(400, 'dot segment in path');
    const relPath = segs.length === 0 ? 'index.html' : segs.join('/');
    return { ok: true, req: { kind: 'app', relPath } };
  }
  return reject(403, `unknown host ${host || '(none)'}`);
}

// realpath of the allowed folders, remembered: they are few and stable. If one is later swapped for a link
// elsewhere, files resolve outside the remembered real path and are refused (the safe direction).
const realBases = new Map<string, string>();

async function realBase(dir: string): Promise<string> {
  const hit = realBases.get(dir);
  if (hit) return hit;
  const real = await fs.promises.realpath(dir);
  if (realBases.size > 256) realBases.clear();
  realBases.set(dir, real);
  return real;
}

/** realpath of `candidate`, when it is a regular file whose real path lies inside realpath(`baseDir`). */
export async function realFileInside(baseDir: string, candidate: string): Promise<string | null> {
  if (!path.isAbsolute(candidate) || candidate.includes('\0')) return null;
  let base: string;
  let realFile: string;
  try {
    base = await realBase(baseDir);
    realFile = await fs.promises.realpath(candidate);
  } catch {
    return null;
  }
  const rel = path.relative(base, realFile);
  // inside = a relative path that does not climb ('..' or '../x'); a name like '..x' is an ordinary file inside
  if (rel === '' || rel === '..' || rel.startsWith('..' + path.sep) || path.isAbsolute(rel)) return null;
  try {
    const st = await fs.promises.stat(realFile);
    if (!st.isFile()) return null;
  } catch {
    return null;
  }
  return realFile;
}

export const imageTypes: Record<string, string> = {
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp', '.gif': 'image/gif',
  '.avif': 'image/avif', '.bmp': 'image/bmp', '.tif': 'image/tiff', '.tiff': 'image/tiff',
  '.heic': 'image/heic', '.heif': 'image/heif',
};

export const appTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.map': 'application/json', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.webp': 'image/webp', '.ico': 'image/x-icon', '.woff2': 'font/woff2',
  '.woff': 'font/woff', '.txt': 'text/plain; charset=utf-8',
};

/** What the protocol needs to know about a photo; main answers it by asking the engine API. */
export interface PhotoRecord {
  path: string;
  thumbnail: string | null;
  status: string;
}

export interface ProtocolDeps {
  /** The engine's thumbnails folder (known once the engine process has started). */
  thumbsDir(): Promise<string>;
  /** The built renderer folder (out/renderer); null in dev, where the renderer comes from the dev server. */
  rendererDir: string | null;
  /** The photo of the library with this id, or null when there is none. */
  photo(id: number): Promise<PhotoRecord | null>;
  /** The library's root folders. */
  roots(): Promise<string[]>;
}

export type Decision = { ok: true; file: string; contentType: string; kind: SiftRequest['kind'] } | Rejection;

/** Decides what a sift:// request serves: a real, checked file path and its content type, or a rejection. */
export async function decide(raw: string, method: string, deps: ProtocolDeps): Promise<Decision> {
  const parsed = parseSiftUrl(raw, method);
  if (!parsed.ok) return parsed;
  const req = parsed.req;
  if (req.kind === 'app') {
    if (!deps.rendererDir) return reject(404, 'no built renderer');
    const type = appTypes[path.extname(req.relPath).toLowerCase()];
    if (!type) return reject(403, `file type not served: ${req.relPath}`);
    const file = await realFileInside(deps.rendererDir, path.join(deps.rendererDir, ...req.relPath.split('/')));
    if (!file) return reject(404, `not found: ${req.relPath}`);
    return { ok: true, file, contentType: type, kind: 'app' };
  }
  let photo: PhotoRecord | null;
  try {
    photo = await deps.photo(req.id);
  } catch {
    photo = null;
  }
  if (!photo) return reject(404, `no photo ${req.id} in the library`);
  if (req.kind === 'thumb') {
    if (!photo.thumbnail) return reject(404, `photo ${req.id} has no thumbnail`);
    const type = imageTypes[path.extname(photo.thumbnail).toLowerCase()];
    if (!type) return reject(403, 'thumbnail is not an image file');
    const file = await realFileInside(await deps.thumbsDir(), photo.thumbnail);
    if (!file) return reject(403, `thumbnail of photo ${req.id} is outside the thumbnails folder or missing`);
    return { ok: true, file, contentType: type, kind: 'thumb' };
  }
  if (photo.status === 'missing') return reject(404, `photo ${req.id} is missing on disk`);
  const type = imageTypes[path.extname(photo.path).toLowerCase()];
  if (!type) return reject(403, `photo ${req.id} is not an image file type`);
  for (const root of await deps.roots()) {
    const file = await realFileInside(root, photo.path);
    if (file) return { ok: true, file, contentType: type, kind: 'photo' };
  }
  return reject(403, `photo ${req.id} is not inside a library folder`);
}

/** Reads a decided file without following a symlink swapped in at its final component since the check. */
export async function readChecked(file: string): Promise<Buffer> {
  const fh = await fs.promises.open(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
  try {
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}
