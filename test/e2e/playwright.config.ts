// Playwright e2e of the real renderer against the real engine, through the web test host, in Debian's
// Chromium (never a downloaded browser). globalSetup builds the renderer, writes the photo fixtures and
// starts the host on a temp database.
import { defineConfig } from '@playwright/test';

export const chromiumLaunch = {
  executablePath: process.env.SIFT_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
};

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  timeout: 150_000,
  expect: { timeout: 30_000 },
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: [['list']],
  outputDir: '../../test-results/e2e',
  globalSetup: './global-setup.ts',
  use: {
    browserName: 'chromium',
    launchOptions: chromiumLaunch,
    viewport: { width: 1360, height: 860 },
    actionTimeout: 20_000,
    trace: 'off',
  },
});
