// `npm start` helper: builds a second copy of better-sqlite3 for Electron's ABI in
// node_modules/.sift-electron/, so the desktop app (dev) and the CLI/tests (Node) each load a binary built for
// them. (onnxruntime-node and sharp are N-API modules: one binary serves both.) The main process points the
// engine at this copy through SIFT_SQLITE_BINDING; packaged apps are rebuilt by electron-builder instead.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const electronVersion = require('electron/package.json').version;
const srcDir = path.dirname(require.resolve('better-sqlite3/package.json'));
const sqliteVersion = require('better-sqlite3/package.json').version;
const buildRoot = path.join(root, 'node_modules', '.sift-electron');
const modDir = path.join(buildRoot, 'node_modules', 'better-sqlite3');
const binding = path.join(modDir, 'build', 'Release', 'better_sqlite3.node');
const stampFile = path.join(buildRoot, 'stamp.json');
const stamp = JSON.stringify({ electronVersion, sqliteVersion, platform: process.platform, arch: process.arch });

if (fs.existsSync(binding) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) process.exit(0);

console.log(`sift: building better-sqlite3 ${sqliteVersion} for Electron ${electronVersion} (once) ...`);
fs.rmSync(buildRoot, { recursive: true, force: true });
fs.mkdirSync(path.dirname(modDir), { recursive: true });
fs.cpSync(srcDir, modDir, { recursive: true, filter: (p) => !p.startsWith(path.join(srcDir, 'build')) });
fs.writeFileSync(path.join(buildRoot, 'package.json'), JSON.stringify({ name: 'sift-electron-native', private: true, dependencies: { 'better-sqlite3': sqliteVersion } }));
try {
  const { rebuild } = await import('@electron/rebuild');
  await rebuild({ buildPath: buildRoot, electronVersion, onlyModules: ['better-sqlite3'], force: true });
  if (!fs.existsSync(binding)) throw new Error(`no binary at ${binding}`);
  fs.writeFileSync(stampFile, stamp);
  console.log('sift: done');
} catch (err) {
  console.error(`sift: could not build better-sqlite3 for Electron ${electronVersion}: ${err?.message ?? err}`);
  console.error('sift: the desktop app needs it (it downloads Electron headers or a prebuilt binary); the CLI and tests do not.');
  process.exit(1);
}
