// postinstall: convert the default models from their npm packages to ONNX (resources/models/).
// Quiet when the models are up to date (source files unchanged); skipped with a one-line warning when the
// build-time source packages are absent (e.g. a production install without dev dependencies).
// A changed source package fails the install with a message saying what changed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

if (process.env.SIFT_SKIP_MODELS === '1') {
  console.log('sift: SIFT_SKIP_MODELS=1, not building models');
  process.exit(0);
}
if (!fs.existsSync('scripts/build-models.ts')) process.exit(0);
let tsx;
try {
  tsx = import.meta.resolve('tsx');
} catch {
  console.warn('sift: tsx is not installed, not building models (run `npm run build:models` later)');
  process.exit(0);
}
void tsx;
const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-models.ts', '--postinstall'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
