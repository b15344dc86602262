// Build the default ONNX models (resources/models/<id>.onnx + <id>.json) from the TF.js models in npm packages.
//   npm run build:models [-- --force] [--out DIR] [--packages DIR] [--only ID,ID] [--postinstall]
// --postinstall (used by scripts/postinstall.mjs): quiet; a missing source package (production install) is a
// warning, not a failure. A changed source package is always an error.
import path from 'node:path';
import { buildModels, SourcePackageError } from '../src/vision/convert/build.ts';

const args = process.argv.slice(2);
const flag = (f: string) => args.includes(f);
const value = (f: string) => {
  const i = args.indexOf(f);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (!v || v.startsWith('--')) usage(`${f} needs a value`);
  return v;
};
function usage(msg: string): never {
  console.error(`build-models: ${msg}\nusage: build-models [--force] [--out DIR] [--packages DIR] [--only ID,ID] [--postinstall]`);
  process.exit(2);
}
const known = new Set(['--force', '--out', '--packages', '--only', '--postinstall']);
for (let i = 0; i < args.length; i++) {
  if (!known.has(args[i])) usage(`unknown argument ${args[i]}`);
  if (['--out', '--packages', '--only'].includes(args[i])) i++;
}
const postinstall = flag('--postinstall');
const out = value('--out');
const pkgs = value('--packages');
const only = value('--only');
const t0 = performance.now();
try {
  const results = buildModels({
    outDir: out ? path.resolve(out) : undefined,
    packagesDir: pkgs ? path.resolve(pkgs) : undefined,
    force: flag('--force'),
    ids: only?.split(',').filter(Boolean),
    log: (m) => {
      if (!postinstall || !m.endsWith('up to date')) console.log(`sift models: ${m}`);
    },
  });
  const built = results.filter((r) => r.status === 'built').length;
  if (!postinstall || built) console.log(`sift models: ${built} built, ${results.length - built} up to date (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
} catch (e) {
  if (e instanceof SourcePackageError && e.code === 'missing' && postinstall) {
    console.warn(`sift models: not built: ${e.message}`);
    process.exit(0);
  }
  console.error(`sift models: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
