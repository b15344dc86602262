// Builds the renderer for the web test host (out/web). The Electron build uses electron.vite.config.ts with
// the same root and entry (renderer/index.html -> renderer/src/main.tsx).
// (No node:path here: the lint keeps node:* out of renderer/; import.meta.dirname is this folder.)
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const here = import.meta.dirname;

export default defineConfig({
  root: here,
  base: './',
  plugins: [react()],
  build: {
    outDir: `${here}/../out/web`,
    emptyOutDir: true,
    target: 'chrome120',
    sourcemap: false,
  },
});
