// The desktop build: `electron-vite build` must keep working (main, engine host, preload, renderer), the
// engine's worker files must exist and run once bundled, and the sandboxed preload must need nothing but
// Electron. Outputs go to scratch folders under out/ (so bundled imports resolve node_modules) and are removed.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build, createServer } from 'vite';
import react from '@vitejs/plugin-react';
import { devCspPlugin, rewriteCsp } from '../../main/build/dev-csp-plugin.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { workerUrlPlugin } from '../../main/build/worker-url-plugin.ts';
import { contentSecurityPolicy } from '../../main/ipc-core.ts';

const run = promisify(execFile);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const scratch: string[] = [];
const scratchDir = (name: string) => {
  const d = path.join(repo, 'out', `.test-${name}-${process.pid}`);
  fs.rmSync(d, { recursive: true, force: true });
  scratch.push(d);
  return d;
};

afterAll(() => {
  for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
});

function jsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(c|m)?js$/.test(f)).map((f) => path.join(dir, f));
}

/** Every new URL('<relative>', import.meta.url) in the output points at a file that exists. */
function checkWorkerUrls(dir: string): string[] {
  const targets: string[] = [];
  for (const file of jsFiles(dir)) {
    const code = fs.readFileSync(file, 'utf8');
    expect(code, `${file} still names a .ts worker`).not.toMatch(/new URL\(\s*["'`][^"'`]+\.ts["'`]\s*,\s*import\.meta\.url/);
    for (const m of code.matchAll(/new URL\(\s*["'`](\.{1,2}\/[^"'`]+)["'`]\s*,\s*import\.meta\.url\s*\)/g)) {
      const target = path.resolve(path.dirname(file), m[1]);
      expect(fs.existsSync(target), `${path.relative(dir, file)} -> ${m[1]}`).toBe(true);
      targets.push(path.relative(dir, target));
    }
  }
  return targets;
}

describe('desktop build', () => {
  it('bundles worker files named with new URL(..., import.meta.url), and they run in piscina', async () => {
    const outDir = scratchDir('workers');
    await build({
      configFile: false,
      logLevel: 'warn',
      root: repo,
      plugins: [workerUrlPlugin()],
      build: {
        ssr: path.join(repo, 'test', 'electron', 'fixtures', 'pool-entry.ts'),
        outDir,
        emptyOutDir: true,
        target: 'node20',
        rolldownOptions: { output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' } },
      },
    });
    expect(fs.existsSync(path.join(outDir, 'workers', 'square.worker.js'))).toBe(true);
    expect(checkWorkerUrls(outDir)).toEqual(['workers/square.worker.js']);
    // Run the bundle with plain Node, away from the sources: the pool must find and run the bundled worker.
    const { stdout } = await run(process.execPath, [path.join(outDir, 'pool-entry.js')], { cwd: outDir, timeout: 60_000 });
    expect(JSON.parse(stdout.trim())).toEqual({ out: [{ n: 3, sq: 9, inWorker: true }, { n: 7, sq: 49, inWorker: true }] });
  });

  it('electron-vite build produces main, the engine host, a sandboxable preload and (when present) the renderer', async () => {
    const outDir = scratchDir('build');
    const withRenderer = fs.existsSync(path.join(repo, 'renderer', 'index.html'));
    if (!withRenderer) console.warn('build test: renderer/index.html is absent, building main + preload only');
    const env = { ...process.env, SIFT_OUT_DIR: outDir, SIFT_BUILD_TARGETS: withRenderer ? 'main,preload,renderer' : 'main,preload' };
    await run(process.execPath, [path.join(repo, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: repo, env, timeout: 180_000 });

    for (const f of ['main/index.js', 'main/engine-host.js', 'preload/preload.cjs']) expect(fs.existsSync(path.join(outDir, f)), f).toBe(true);
    checkWorkerUrls(path.join(outDir, 'main'));

    // The sandboxed preload can require only 'electron': everything else must be bundled in.
    const preload = fs.readFileSync(path.join(outDir, 'preload', 'preload.cjs'), 'utf8');
    expect([...preload.matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1])).toEqual(['electron']);
    expect(preload).not.toMatch(/^\s*import\s/m);
    expect(preload).toContain('exposeInMainWorld("sift"');

    // Main keeps the natives external (rebuilt for Electron by electron-builder), never inlined.
    const mainCode = jsFiles(path.join(outDir, 'main')).map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    expect(mainCode).toMatch(/from "better-sqlite3"/);
    expect(mainCode).not.toMatch(/electron\/(?:dist|index)/);

    if (withRenderer) {
      const html = fs.readFileSync(path.join(outDir, 'renderer', 'index.html'), 'utf8');
      expect(html).toMatch(/<script[^>]+src="\.\/assets\/[^"]+\.js"/);
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>\s*\S/); // no inline script: the CSP forbids it
    }

    // The bundled engine host resolves every import outside Electron, then refuses to run without a parent port.
    const res = await run(process.execPath, [path.join(outDir, 'main', 'engine-host.js'), '--db=/nonexistent/x.db'], { cwd: repo, timeout: 60_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(res).toMatchObject({ code: 2, stderr: expect.stringContaining('not running in an Electron utility process') });
  });

  it('in dev only, the meta CSP is swapped for the dev policy (inline React refresh preamble, HMR socket)', () => {
    const html = '<head><meta http-equiv="Content-Security-Policy" content="default-src \'self\'; script-src \'self\'" /></head>';
    const dev = contentSecurityPolicy(true, 'http://localhost:5173/');
    const out = rewriteCsp(html, dev);
    expect(out).toContain("script-src 'self' 'unsafe-inline' http://localhost:5173");
    expect(out).toContain('ws://localhost:5173');
    expect(out).not.toContain('content="default-src \'self\'; script-src \'self\'"');
    expect(rewriteCsp('<head></head>', dev)).toBe('<head></head>');
    const real = path.join(repo, 'renderer', 'index.html');
    if (fs.existsSync(real)) expect(rewriteCsp(fs.readFileSync(real, 'utf8'), dev)).toContain("'unsafe-inline' http://localhost:5173");
  });

  it.skipIf(!fs.existsSync(path.join(repo, 'renderer', 'index.html')))('the dev server serves the renderer with the dev CSP allowing its own inline preamble', async () => {
    const server = await createServer({
      configFile: false, logLevel: 'silent', root: path.join(repo, 'renderer'),
      plugins: [react(), devCspPlugin()], server: { port: 0, host: '127.0.0.1', strictPort: false },
    });
    try {
      await server.listen();
      const base = server.resolvedUrls!.local[0];
      const html = await (await fetch(base)).text();
      const origin = new URL(base).origin;
      expect(html).toMatch(/<script type="module">[^<]*react-refresh|@react-refresh/); // the inline preamble is there...
      expect(html).toContain(`script-src 'self' 'unsafe-inline' ${origin}`); // ...and allowed, for this server only
      expect(html).toContain(origin.replace('http', 'ws'));
    } finally {
      await server.close();
    }
  });
});
