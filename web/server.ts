// The web test host: serves the built renderer and the engine API over HTTP + WebSocket on 127.0.0.1,
// for Playwright e2e tests and the UI benchmark (the Electron shell is the real host).
//
//   npm run web -- [--db PATH] [--port N] [--build]      (default database: <tmp>/sift-web/sift.db)
//
// Security model (it is a dev/test host, but it can read the library, so it is locked down):
//   - binds 127.0.0.1 only and checks the Host header (no DNS rebinding);
//   - a random token is required on every request: `?token=` in the URL, the `x-sift-token` header, or the
//     HttpOnly SameSite=Strict cookie set when the page is first opened with a valid `?token=`;
//   - POST /api/call {name, input}: the name must be a contract method, the input is validated with zod by the
//     engine (src/api/engine.ts) before it reaches a handler;
//   - GET /thumb/:id and /photo/:id take a numeric photo id only; the file is the one the engine's library
//     says belongs to that id (no path ever comes from the client), and it is served only when its real path
//     (symlinks resolved) is a regular file inside the thumbnails folder / one of the library folders (the
//     same check as the Electron sift:// protocol, main/protocol-core.ts), opened with O_NOFOLLOW;
//   - static files only from the renderer build folder (out/web), no traversal.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import { Engine, ApiError, isMethod, type SiftEvent } from '../src/api/engine.ts';
import { realFileInside } from '../main/protocol-core.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const defaultStaticDir = path.join(repoRoot, 'out', 'web');

export interface WebHostOptions {
  dbPath: string;
  /** 0 (default) = a free port. */
  port?: number;
  /** Defaults to a fresh random token. */
  token?: string;
  /** Built renderer; defaults to <repo>/out/web. */
  staticDir?: string;
  /** Build the renderer with vite before serving (also done when the build folder is missing). */
  build?: boolean;
  dataDir?: string;
  modelsDir?: string;
  /** Log each API error to stderr (default true). */
  log?: boolean;
}

export interface WebHost {
  url: string;
  origin: string;
  token: string;
  port: number;
  engine: Engine;
  close(): Promise<void>;
}

const callBody = z.object({ name: z.string().min(1), input: z.unknown().optional() });
const MAX_BODY = 4 * 1024 * 1024;

const mime: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.gif': 'image/gif', '.avif': 'image/avif',
  '.tif': 'image/tiff', '.tiff': 'image/tiff', '.heic': 'image/heic', '.heif': 'image/heif', '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};
const formatMime: Record<string, string> = {
  jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', tiff: 'image/tiff', avif: 'image/avif', heif: 'image/heif',
};

/** Builds the renderer with vite into staticDir. */
export async function buildRenderer(outDir = defaultStaticDir): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: path.join(repoRoot, 'renderer', 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function cookieToken(req: http.IncomingMessage): string | null {
  const c = req.headers.cookie;
  if (!c) return null;
  for (const part of c.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === 'sift_token') return decodeURIComponent(v.join('='));
  }
  return null;
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) { reject(new ApiError('Request body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Sends a checked real path, opened without following a symlink swapped in at its last component since. */
async function sendFile(res: http.ServerResponse, file: string, type: string, cache: string): Promise<void> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
  } catch {
    send(res, 404, 'Not found');
    return;
  }
  let streaming = false;
  try {
    const st = await fh.stat();
    if (!st.isFile()) { send(res, 404, 'Not found'); return; }
    const headers = { 'content-type': type, 'content-length': String(st.size), 'cache-control': cache, 'x-content-type-options': 'nosniff' };
    if (st.size <= 256 * 1024) {
      // thumbnails: one read, one write
      const buf = await fh.readFile();
      res.writeHead(200, headers);
      res.end(buf);
      return;
    }
    res.writeHead(200, headers);
    streaming = true; // the stream closes the handle
    fh.createReadStream({ autoClose: true }).on('error', () => res.destroy()).pipe(res);
  } catch {
    if (!res.headersSent) send(res, 404, 'Not found');
    else res.destroy();
  } finally {
    if (!streaming) await fh.close().catch(() => undefined);
  }
}

const CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export async function startWebHost(opts: WebHostOptions): Promise<WebHost> {
  const staticDir = path.resolve(opts.staticDir ?? defaultStaticDir);
  if (opts.build || !fs.existsSync(path.join(staticDir, 'index.html'))) await buildRenderer(staticDir);
  const token = opts.token ?? crypto.randomBytes(24).toString('base64url');
  const engine = new Engine({ dbPath: opts.dbPath, dataDir: opts.dataDir, modelsDir: opts.modelsDir });
  const log = opts.log ?? true;
  let port = 0;
  // library folders, for the /photo/ check (asked through the API once, again after each library change)
  let rootsCache: Promise<string[]> | null = null;
  const libraryRoots = () => {
    rootsCache ??= engine.call('library.status', {}).then((s) => s.roots.map((r) => r.path), (e: unknown) => { rootsCache = null; throw e; });
    return rootsCache;
  };
  const offRoots = engine.onEvent((e) => { if (e.type === 'library.changed') rootsCache = null; });

  const hostOk = (req: http.IncomingMessage) => {
    const h = req.headers.host ?? '';
    return h === `127.0.0.1:${port}` || h === `localhost:${port}`;
  };
  const authorised = (req: http.IncomingMessage, url: URL) => {
    const t = url.searchParams.get('token') ?? (req.headers['x-sift-token'] as string | undefined) ?? cookieToken(req);
    return t != null && safeEqual(t, token);
  };

  async function handleCall(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let body: z.infer<typeof callBody>;
    try {
      const parsed = callBody.safeParse(JSON.parse(await readBody(req)));
      if (!parsed.success) throw new ApiError('Body must be {"name": string, "input": object}');
      body = parsed.data;
    } catch (e) {
      send(res, 400, { ok: false, error: e instanceof ApiError ? e.message : 'Body is not valid JSON', code: 'bad_input' });
      return;
    }
    if (!isMethod(body.name)) { send(res, 404, { ok: false, error: `Unknown API method: ${body.name}`, code: 'not_found' }); return; }
    try {
      const result = await engine.call(body.name, (body.input ?? {}) as never);
      send(res, 200, { ok: true, result: result ?? null });
    } catch (e) {
      const err = e as Error;
      const isApi = e instanceof ApiError;
      if (log && !isApi) console.error(`[web] ${body.name} failed:`, err?.stack ?? err);
      send(res, isApi ? 400 : 500, { ok: false, error: String(err?.message ?? err), code: isApi ? (e as ApiError).code : 'internal' });
    }
  }

  async function handleMedia(res: http.ServerResponse, kind: 'thumb' | 'photo', idText: string): Promise<void> {
    if (!/^\d{1,15}$/.test(idText)) { send(res, 400, 'Bad photo id'); return; }
    let p;
    try {
      p = await engine.call('library.photo', { id: Number(idText) });
    } catch (e) {
      send(res, e instanceof ApiError ? 404 : 500, String((e as Error).message));
      return;
    }
    const file = kind === 'thumb' ? p.thumbnail : p.path;
    if (!file) { send(res, 404, `No ${kind === 'thumb' ? 'thumbnail' : 'file'} for photo ${p.id}`); return; }
    if (kind === 'photo' && p.status === 'missing') { send(res, 404, `Photo ${p.id} is missing on disk`); return; }
    // the real file must be a regular file inside the thumbnails folder / a library folder (no symlink escape)
    let realFile: string | null = null;
    if (kind === 'thumb') realFile = await realFileInside(engine.ctx.thumbsDir, file);
    else {
      let roots: string[];
      try { roots = await libraryRoots(); } catch (e) { send(res, 500, String((e as Error).message)); return; }
      for (const root of roots) {
        realFile = await realFileInside(root, file);
        if (realFile) break;
      }
    }
    if (!realFile) {
      send(res, 403, kind === 'thumb' ? `The thumbnail of photo ${p.id} is not a file inside the thumbnails folder`
        : `Photo ${p.id} is not a file inside a library folder`);
      return;
    }
    const type = kind === 'thumb' ? (mime[path.extname(file).toLowerCase()] ?? 'image/jpeg')
      : (formatMime[p.format ?? ''] ?? mime[path.extname(file).toLowerCase()] ?? 'application/octet-stream');
    await sendFile(res, realFile, type, 'private, max-age=300');
  }

  function handleStatic(res: http.ServerResponse, pathname: string): void {
    let rel: string;
    try { rel = decodeURIComponent(pathname); } catch { send(res, 400, 'Bad path'); return; }
    if (rel.includes('\0')) { send(res, 400, 'Bad path'); return; }
    const file = path.resolve(staticDir, '.' + path.posix.normalize('/' + rel));
    if (file !== staticDir && !file.startsWith(staticDir + path.sep)) { send(res, 403, 'Forbidden'); return; }
    const isAsset = path.extname(file) !== '' && fs.existsSync(file);
    const target = isAsset ? file : path.join(staticDir, 'index.html');
    const headers = target.endsWith('.html') ? { 'content-security-policy': CSP } : {};
    fs.stat(target, (err, st) => {
      if (err || !st.isFile()) { send(res, 404, 'Not found'); return; }
      res.writeHead(200, {
        'content-type': mime[path.extname(target)] ?? 'application/octet-stream',
        'cache-control': target.includes(`${path.sep}assets${path.sep}`) ? 'private, max-age=3600' : 'no-store',
        'x-content-type-options': 'nosniff',
        ...headers,
      });
      fs.createReadStream(target).pipe(res);
    });
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!hostOk(req)) { send(res, 421, 'Bad host'); return; }
    if (!authorised(req, url)) { send(res, 401, 'A valid token is required (open the URL the host printed).'); return; }
    // Page opened with ?token=: remember it in a strict cookie so the built assets load without a token.
    if (url.searchParams.has('token')) {
      res.setHeader('set-cookie', `sift_token=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`);
    }
    const m = /^\/(thumb|photo)\/([^/]+)$/.exec(url.pathname);
    if (url.pathname === '/api/call') {
      if (req.method !== 'POST') { send(res, 405, 'POST only'); return; }
      void handleCall(req, res);
    } else if (m) {
      if (req.method !== 'GET' && req.method !== 'HEAD') { send(res, 405, 'GET only'); return; }
      void handleMedia(res, m[1] as 'thumb' | 'photo', m[2]);
    } else if (req.method === 'GET' || req.method === 'HEAD') {
      handleStatic(res, url.pathname);
    } else {
      send(res, 405, 'Method not allowed');
    }
  });

  const wss = new WebSocketServer({ noServer: true });
  const clients = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/api/events' || !hostOk(req) || !authorised(req, url)) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('error', () => clients.delete(ws));
    });
  });
  const offEvents = engine.onEvent((e: SiftEvent) => {
    const text = JSON.stringify(e);
    for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(text);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as { port: number }).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/?token=${encodeURIComponent(token)}`,
    origin,
    token,
    port,
    engine,
    close: async () => {
      offEvents();
      offRoots();
      for (const ws of clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await engine.close();
    },
  };
}

function parseArgs(argv: string[]): WebHostOptions {
  const out: WebHostOptions = { dbPath: path.join(os.tmpdir(), 'sift-web', 'sift.db') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--db') out.dbPath = path.resolve(next());
    else if (a === '--port') {
      const n = Number(next());
      if (!Number.isInteger(n) || n < 0 || n > 65535) usage('--port must be an integer 0..65535');
      out.port = n;
    } else if (a === '--static') out.staticDir = path.resolve(next());
    else if (a === '--build') out.build = true;
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  return out;
}

function usage(msg?: string): never {
  if (msg) console.error(`sift web: ${msg}`);
  console.error('usage: npm run web -- [--db PATH] [--port N] [--build] [--static DIR]');
  process.exit(msg ? 2 : 0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const opts = parseArgs(process.argv.slice(2));
  const host = await startWebHost(opts);
  // Parsed by the e2e global setup: keep this line's format.
  console.log(`Sift web host: ${host.url}`);
  console.log(`database: ${opts.dbPath}`);
  const stop = () => { void host.close().finally(() => process.exit(0)); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
