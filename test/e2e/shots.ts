// Screenshots of the main views: test/artifacts/ (git-ignored) on every run; also docs/screenshots/ when
// SIFT_UPDATE_DOCS_SCREENSHOTS=1 (the committed copies used by the README).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = path.join(repo, 'test', 'artifacts');
const docs = path.join(repo, 'docs', 'screenshots');

export async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(artifacts, { recursive: true });
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file });
  if (process.env.SIFT_UPDATE_DOCS_SCREENSHOTS === '1') {
    fs.mkdirSync(docs, { recursive: true });
    fs.copyFileSync(file, path.join(docs, `${name}.png`));
  }
}
