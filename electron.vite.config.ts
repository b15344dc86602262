// electron-vite: main (main/index.ts + the engine's utility-process entry main/engine-host.ts + the engine's
// worker files), the sandboxed preload (CommonJS, as sandboxed preloads must be), and the React renderer.
// Dependencies (better-sqlite3, onnxruntime-node, sharp, piscina, ...) stay external: they are loaded from
// node_modules at run time (electron-builder rebuilds/unpacks the natives, see electron-builder.yml).
// SIFT_BUILD_TARGETS=main,preload builds a subset (the build test uses it when the renderer is absent).
import path from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import { workerUrlPlugin } from './main/build/worker-url-plugin.ts';
import { devCspPlugin } from './main/build/dev-csp-plugin.ts';

const root = process.cwd();
// SIFT_OUT_DIR redirects the output (the build test builds into a scratch folder).
const outRoot = path.resolve(root, process.env.SIFT_OUT_DIR ?? 'out');
const targets = new Set((process.env.SIFT_BUILD_TARGETS ?? 'main,preload,renderer').split(',').map((s) => s.trim()));

export default defineConfig({
  main: targets.has('main')
    ? {
      plugins: [workerUrlPlugin()],
      build: {
        outDir: path.join(outRoot, 'main'),
        target: 'node22',
        sourcemap: true,
        rolldownOptions: {
          input: { index: path.join(root, 'main', 'index.ts'), 'engine-host': path.join(root, 'main', 'engine-host.ts') },
          output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
        },
      },
    }
    : undefined,
  preload: targets.has('preload')
    ? {
      build: {
        outDir: path.join(outRoot, 'preload'),
        sourcemap: true,
        rolldownOptions: {
          input: { preload: path.join(root, 'main', 'preload.ts') },
          output: { format: 'cjs', entryFileNames: '[name].cjs' },
        },
      },
    }
    : undefined,
  renderer: targets.has('renderer')
    ? {
      root: path.join(root, 'renderer'),
      base: './',
      plugins: [react(), devCspPlugin()],
      build: {
        outDir: path.join(outRoot, 'renderer'),
        target: 'chrome120',
        rolldownOptions: { input: path.join(root, 'renderer', 'index.html') },
      },
    }
    : undefined,
});
