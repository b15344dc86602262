// Vite/Rolldown plugin: makes the engine's worker files exist at run time when main is bundled.
//
// The engine creates pools with `createPool(new URL('./x.worker.ts', import.meta.url))` (src/util/workers.ts).
// Unbundled (tsx, vitest, CLI) that URL points at the TypeScript file. Bundled, `import.meta.url` is the
// chunk's URL and './x.worker.ts' does not exist beside it. This plugin finds every
// `new URL('<relative code file>', import.meta.url)` in our own sources, emits that file as an extra entry
// chunk (workers/<name>.js, compiled with the rest of main, natives still external), and rewrites the URL to
// the emitted file's path relative to the chunk that holds the expression. Build-time only; no Electron import.
import fs from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'vite';

const URL_RE = /new\s+URL\(\s*(['"`])(\.{1,2}\/[^'"`\n]+?\.(?:ts|mts|js|mjs))\1\s*,\s*import\.meta\.url\s*\)/g;
const TOKEN_RE = /__SIFT_WORKER_([A-Za-z0-9_$]+?)__/g;

export interface WorkerUrlOptions {
  /** Output folder (inside the build's outDir) for the worker entries. Default 'workers'. */
  dir?: string;
}

export function workerUrlPlugin(opts: WorkerUrlOptions = {}): Plugin {
  const dir = opts.dir ?? 'workers';
  const emitted = new Map<string, string>(); // absolute worker path -> reference id
  const names = new Map<string, string>(); // output name -> absolute path (detects clashes)
  return {
    name: 'sift:worker-url',
    enforce: 'pre',
    buildStart() {
      emitted.clear();
      names.clear();
    },
    transform(code, id) {
      if (id.includes('/node_modules/') || id.startsWith('\0') || !/\.(?:[cm]?[jt]sx?)$/.test(id.split('?')[0])) return null;
      if (!code.includes('import.meta.url')) return null;
      let changed = false;
      const out = code.replace(URL_RE, (full, _q: string, rel: string) => {
        const abs = path.resolve(path.dirname(id.split('?')[0]), rel);
        if (!fs.existsSync(abs)) return full;
        let ref = emitted.get(abs);
        if (!ref) {
          let base = path.basename(abs).replace(/\.(?:[cm]?[jt]s)$/, '');
          for (let i = 2; names.has(base) && names.get(base) !== abs; i++) base = `${path.basename(abs).replace(/\.(?:[cm]?[jt]s)$/, '')}-${i}`;
          names.set(base, abs);
          ref = this.emitFile({ type: 'chunk', id: abs, fileName: `${dir}/${base}.js` });
          emitted.set(abs, ref);
          this.addWatchFile(abs);
        }
        changed = true;
        return `new URL('__SIFT_WORKER_${ref}__', import.meta.url)`;
      });
      return changed ? { code: out, map: null } : null;
    },
    renderChunk(code, chunk) {
      if (!code.includes('__SIFT_WORKER_')) return null;
      const out = code.replace(TOKEN_RE, (_full, ref: string) => {
        const target = this.getFileName(ref);
        let rel = path.posix.relative(path.posix.dirname(chunk.fileName), target);
        if (!rel.startsWith('.')) rel = `./${rel}`;
        return rel;
      });
      return { code: out, map: null };
    },
  };
}
