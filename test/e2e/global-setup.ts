// Builds the renderer, writes a folder of look-alike photo groups (sharp, with EXIF), and starts the web
// test host on a fresh temp database in a child process. Tests read SIFT_E2E_URL / SIFT_E2E_PHOTOS / SIFT_E2E_TMP.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeLibrary, makeBadFiles } from '../helpers/fixtures.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const GROUPS = [
  { name: 'red-circles', color: 'red', pattern: 'circle' as const, count: 8 },
  { name: 'blue-stripes', color: 'blue', pattern: 'stripes' as const, count: 8 },
  { name: 'green-checker', color: 'green', pattern: 'checker' as const, count: 8 },
];

export default async function globalSetup(): Promise<() => Promise<void>> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sift-e2e-'));
  const photos = path.join(tmp, 'photos');
  await makeLibrary(photos, {
    groups: GROUPS.map((g) => ({ ...g, width: 320, height: 240 })),
    defaults: { make: 'SiftCam', model: 'E2E-1', gps: { lat: 48.8566, lon: 2.3522 } },
  });
  await makeBadFiles(path.join(photos, 'bad'));
  fs.unlinkSync(path.join(photos, 'bad', 'really-a-png.jpg'));
  const dbPath = path.join(tmp, 'sift.db');

  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repo, 'web', 'server.ts'), '--db', dbPath, '--build'], {
    cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env },
  });
  let log = '';
  child.stderr.on('data', (d) => { log += String(d); if (process.env.SIFT_E2E_VERBOSE) process.stderr.write(d); });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`web host did not start in 90 s:\n${log}`)), 90_000);
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
      const m = /Sift web host: (\S+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`web host exited (${code}):\n${log}`)); });
  });
  process.env.SIFT_E2E_URL = url;
  process.env.SIFT_E2E_PHOTOS = photos;
  process.env.SIFT_E2E_TMP = tmp;
  return async () => {
    child.kill('SIGTERM');
    await new Promise((r) => { child.once('exit', r); setTimeout(r, 5000); });
    if (!process.env.SIFT_E2E_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
  };
}
