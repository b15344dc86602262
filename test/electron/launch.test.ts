// Launches the real built Electron app with Playwright's _electron where an Electron binary is installed
// (node_modules/electron/dist), and otherwise skips, printing why. On Linux without a display, run it under
// xvfb-run. It builds the app first (electron-vite build), then checks the window, the bridge, the protocol and
// the lock-down from the renderer's side, and saves a screenshot to test/artifacts/electron-window.png.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { _electron as electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLibrary } from '../helpers/fixtures.ts';

const run = promisify(execFile);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

function electronBinary(): { path: string } | { skip: string } {
  let bin: string;
  try {
    bin = require('electron') as string; // the package's index returns the binary path, or throws when absent
  } catch (err) {
    return { skip: `no Electron binary (${(err as Error).message.split('\n')[0]}); installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1?` };
  }
  if (!fs.existsSync(bin)) return { skip: `no Electron binary at ${bin} (node_modules/electron/dist is missing: installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1)` };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return { skip: 'no display (DISPLAY unset): run under xvfb-run' };
  return { path: bin };
}

const found = electronBinary();
if ('skip' in found) console.warn(`test/electron/launch.test.ts skipped: ${found.skip}`);

describe.skipIf('skip' in found)('the real Electron app', () => {
  let app: ElectronApplication;
  let page: Page;
  let tmp: string;

  beforeAll(async () => {
    await run(process.execPath, [path.join(repo, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: repo, timeout: 180_000 });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sift-electron-'));
    app = await electron.launch({
      executablePath: (found as { path: string }).path,
      args: [repo],
      cwd: repo,
      env: Object.fromEntries(
        Object.entries({ ...process.env, SIFT_USER_DATA: path.join(tmp, 'profile') }).filter(([k, v]) => k !== 'ELECTRON_RENDERER_URL' && v !== undefined),
      ) as Record<string, string>,
      timeout: 60_000,
    });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
  }, 240_000);

  afterAll(async () => {
    await app?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('opens one window on the app origin, with the database in userData', async () => {
    expect(app.windows().length).toBe(1);
    expect(page.url()).toBe('sift://app/index.html');
    const windows = await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().map((w) => w.webContents.getURL()));
    expect(windows).toEqual(['sift://app/index.html']);
    const userData = await app.evaluate(({ app: a }) => a.getPath('userData'));
    expect(userData).toBe(path.join(tmp, 'profile'));
    const status = await page.evaluate(() => window.sift!.call('library.status', {}));
    expect(status.dbPath).toBe(path.join(tmp, 'profile', 'sift.db'));
  });

  it('gives the renderer window.sift and nothing of Node', async () => {
    // sandbox + contextIsolation + no nodeIntegration, seen from the page: only the bridged object exists.
    const shape = await page.evaluate(() => ({
      kind: window.sift?.kind,
      keys: Object.keys(window.sift ?? {}).sort(),
      require: typeof (window as unknown as { require?: unknown }).require,
      process: typeof (window as unknown as { process?: unknown }).process,
    }));
    expect(shape).toEqual({ kind: 'electron', keys: ['call', 'kind', 'onEvent', 'pathForFile', 'photoUrl', 'pickFolder', 'thumbUrl'], require: 'undefined', process: 'undefined' });
    await expect(page.evaluate(() => window.sift!.call('no.such' as never, {} as never))).rejects.toThrow(/Unknown API method/);
    await expect(page.evaluate(() => window.sift!.call('library.photo', { id: 'x' } as never))).rejects.toThrow(/Invalid input for library.photo/);
  });

  it('indexes a generated folder through the bridge and serves its thumbnails and photos over sift://', async () => {
    const lib = path.join(tmp, 'photos');
    await makeLibrary(lib, { groupCount: 2, perGroup: 2, defaults: { width: 320, height: 240 } });
    const events: string[] = [];
    await page.exposeFunction('__siftEvent', (t: string) => events.push(t));
    await page.evaluate(() => { window.sift!.onEvent((e) => (window as unknown as { __siftEvent: (t: string) => void }).__siftEvent(e.type)); });
    const summary = await page.evaluate((dir) => window.sift!.call('library.index', { roots: [dir], stages: false }), lib);
    expect(summary.added).toBe(4);
    const photos = await page.evaluate(() => window.sift!.call('library.photos', { status: 'ok' }));
    expect(photos.length).toBe(4);
    expect(events).toContain('library.changed');
    const load = (src: string) => page.evaluate((s) => new Promise<string>((resolve) => {
      const img = new Image();
      img.onload = () => resolve(`ok ${img.naturalWidth}x${img.naturalHeight}`);
      img.onerror = () => resolve('error');
      img.src = s;
    }), src);
    const id = photos[0].id;
    expect(await load(await page.evaluate((i) => window.sift!.thumbUrl(i), id))).toMatch(/^ok \d+x\d+$/);
    expect(await load(await page.evaluate((i) => window.sift!.photoUrl(i), id))).toBe('ok 320x240');
    expect(await load('sift://thumb/999999')).toBe('error');
    expect(await load('sift://thumb/..%2F..%2Fsift.db')).toBe('error');
    expect(await load('sift://evil/1')).toBe('error');
    expect(await load(`file://${photos[0].path}`)).toBe('error');
    fs.mkdirSync(path.join(repo, 'test', 'artifacts'), { recursive: true });
    await page.screenshot({ path: path.join(repo, 'test', 'artifacts', 'electron-window.png') });
  }, 120_000);

  it('blocks navigation, new windows and remote loads', async () => {
    const before = page.url();
    await page.evaluate(() => { location.href = 'https://example.com/'; });
    await page.waitForTimeout(500);
    expect(page.url()).toBe(before);
    expect(await page.evaluate(() => window.open('https://example.com/') === null)).toBe(true);
    expect(app.windows().length).toBe(1);
    const remote = await page.evaluate(() => fetch('https://example.com/').then(() => 'loaded', () => 'blocked'));
    expect(remote).toBe('blocked');
    const perm = await page.evaluate(() => navigator.permissions.query({ name: 'geolocation' as PermissionName }).then((s) => s.state, () => 'denied'));
    expect(perm).not.toBe('granted');
  });
});

