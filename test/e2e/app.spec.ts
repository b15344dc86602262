// The whole flow a person goes through, in the real renderer against the real engine (web test host):
// add a folder of generated photos -> index -> gallery, viewer, selection -> clusters -> name a cluster ->
// correct a photo -> suggestions update -> export -> the files are on disk. Screenshots of every main view.
import { expect, test, type Page } from '@playwright/test';
import { shot } from './shots.ts';
import { makeLibrary } from '../helpers/fixtures.ts';

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

  // drag & drop of the folder (a file manager puts a file:// URI in text/uri-list)
  const dt = await page.evaluateHandle((p) => {
    const d = new DataTransfer();
    d.setData('text/uri-list', `file://${p.split('/').map(encodeURIComponent).join('/')}`);
    return d;
  }, photos);
  await page.getByTestId('dropzone').dispatchEvent('dragover', { dataTransfer: dt });
  await page.getByTestId('dropzone').dispatchEvent('drop', { dataTransfer: dt });
  await expect(page.getByTestId('folder-path')).toHaveValue(photos);
  // progress with rate and ETA is shown while indexing (the run may be fast: accept either)
  await expect(page.getByTestId('job-progress').or(page.getByTestId('view-gallery')).or(page.getByTestId('view-clusters')).first()).toBeVisible();
  await expect(page.getByTestId('view-welcome')).toBeHidden({ timeout: 120_000 });

  // first run ends on the clusters found in the new photos
  await expect(page.getByTestId('view-clusters')).toBeVisible();
  await expect(page.getByTestId('cluster-card').first()).toBeVisible();
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
  await page.locator('[data-testid=tile][title^="red-circles-001"]').dblclick();
  const viewer = page.getByTestId('viewer');
  await expect(viewer).toBeVisible();
  await expect(page.getByTestId('exif')).toContainText('SiftCam E2E-1');
  await expect(page.getByTestId('exif')).toContainText('320 × 240');
  await expect(page.getByTestId('exif')).toContainText('48.85');
  // the full photo is served by id and decodes
  await expect.poll(() => viewer.locator('.viewer-img img').first().evaluate((i) => (i as HTMLImageElement).complete ? (i as HTMLImageElement).naturalWidth : 0)).toBe(320);
  await shot(page, '04-viewer');
  await page.keyboard.press('Escape');
  await expect(viewer).toBeHidden();

  // failed files are listed with the file concerned and the reason
  await page.getByTestId('filter-failed').click();
  const failed = (await api<{ failed: number }>(page, 'library.status')).failed;
  expect(failed).toBeGreaterThanOrEqual(2);   // zero.jpg, text.jpg (and truncated.jpg if the decoder gives up on it)
  await expect(page.getByTestId('grid-count')).toHaveText(`${failed} photos`);
  await expect(page.locator('[data-testid=tile][title*="zero.jpg"]')).toBeVisible();
  await expect(page.locator('[data-testid=tile][title*="text.jpg"]')).toHaveAttribute('title', /not an image/);

  await page.getByTestId('tab-library').click();
  await expect(page.getByTestId('view-library')).toContainText(photos);
  await shot(page, '07-library');

  // indexing a second folder shows progress with rate and ETA, and Cancel stops it keeping what was done
  const more = `${process.env.SIFT_E2E_TMP}/more`;
  await makeLibrary(more, { groups: [{ name: 'more', color: 'yellow', pattern: 'rings', count: 60, width: 640, height: 480 }] });
  await page.getByTestId('folder-path').fill(more);
  await page.getByTestId('add-folder').click();
  const bar = page.getByTestId('job-progress').filter({ has: page.getByTestId('job-cancel') });
  await expect(bar).toBeVisible();
  await expect(bar.getByTestId('job-rate')).toContainText('/s');
  await expect(bar.getByTestId('job-eta')).toContainText('ETA');
  await bar.getByTestId('job-cancel').click();
  await expect(page.getByTestId('note-info').filter({ hasText: 'Indexing cancelled' })).toBeVisible();
  const st = await api<{ photos: number }>(page, 'library.status');
  expect(st.photos).toBeGreaterThanOrEqual(27);
  expect(await api<unknown[]>(page, 'jobs.list')).toEqual([]);

  // dark theme
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await page.getByTestId('theme-toggle').click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.getByTestId('tab-gallery').click();
  await page.getByTestId('filter-all').click();
  await expect(page.getByTestId('grid-count')).toHaveText(`${st.photos} photos`);
  await shot(page, '08-gallery-dark');
  await page.getByTestId('theme-toggle').click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  expect(errors).toEqual([]);
});

interface ClusterInfo { id: number; size: number; label: { id: number; name: string } | null }
interface Photo { id: number; path: string }

/** Cluster id -> the fixture group most of its photos come from (the folder name). */
async function clusterGroups(page: Page): Promise<Map<number, string>> {
  const { clusters } = await api<{ clusters: ClusterInfo[] }>(page, 'learn.clusters', { includeNamed: true });
  const out = new Map<number, string>();
  for (const c of clusters) {
    const { photoIds } = await api<{ photoIds: number[] }>(page, 'learn.clusterPhotos', { id: c.id, limit: 1000 });
    const photos = await api<Photo[]>(page, 'library.photos', { ids: photoIds });
    const votes = new Map<string, number>();
    for (const p of photos) { const g = p.path.split('/').at(-2)!; votes.set(g, (votes.get(g) ?? 0) + 1); }
    out.set(c.id, [...votes].sort((a, b) => b[1] - a[1])[0][0]);
  }
  return out;
}

test('name clusters, split and merge, correct a photo, suggestions update, undo', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${process.env.SIFT_E2E_URL!}&view=clusters`);
  await expect(page.getByTestId('cluster-card').first()).toBeVisible();
  const groups = await clusterGroups(page);
  const idOf = (g: string) => [...groups].find(([, name]) => name === g)?.[0];
  const red = idOf('red-circles');
  const blue = idOf('blue-stripes');
  expect(red, `clusters: ${JSON.stringify([...groups])}`).toBeDefined();
  expect(blue).toBeDefined();
  await shot(page, '02-clusters');

  // name two clusters by typing (autocomplete offers existing labels)
  const card = (id: number) => page.locator(`[data-testid=cluster-card][data-cluster="${id}"]`);
  await card(red!).getByTestId('cluster-name').fill('Reds');
  await card(red!).getByTestId('cluster-name').press('Enter');
  await expect(card(red!).getByTestId('cluster-label')).toHaveText('Reds');
  await card(blue!).getByTestId('cluster-name').fill('Blues');
  await card(blue!).getByTestId('cluster-name').press('Enter');
  await expect(card(blue!).getByTestId('cluster-label')).toHaveText('Blues');
  expect(await card(red!).locator('datalist option').evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value).sort())).toEqual(['Blues', 'Reds']);
  const labels = await api<{ name: string; assigned: number }[]>(page, 'learn.labels');
  expect(labels.find((l) => l.name === 'Reds')?.assigned).toBeGreaterThanOrEqual(6);

  // open a cluster, select two photos and split them off; then merge the new cluster back by drag
  const before = await page.getByTestId('cluster-card').count();
  const other = [...groups.keys()].find((id) => id !== red && id !== blue) ?? blue!;
  await card(other).click();
  await expect(page.getByTestId('view-cluster')).toBeVisible();
  const tiles = page.getByTestId('cluster-grid').getByTestId('tile');
  await tiles.nth(0).click();
  await tiles.nth(1).click({ modifiers: ['ControlOrMeta'] });
  await shot(page, '05-cluster-open');
  await page.getByTestId('split').click();
  await page.getByTestId('cluster-back').click();
  await expect(page.getByTestId('cluster-card')).toHaveCount(before + 1);
  const { clusters: afterSplit } = await api<{ clusters: ClusterInfo[] }>(page, 'learn.clusters', { includeNamed: true });
  const splitId = afterSplit.find((c) => !groups.has(c.id))!.id;
  await card(splitId).dragTo(card(other));
  await expect(page.getByTestId('cluster-card')).toHaveCount(before);
  // Ctrl+Z undoes the merge
  await page.keyboard.press('ControlOrMeta+z');
  await expect(page.getByTestId('cluster-card')).toHaveCount(before + 1);
  await page.keyboard.press('ControlOrMeta+Shift+z');
  await expect(page.getByTestId('cluster-card')).toHaveCount(before);

  // review queue: correct a photo with a number key; the queue updates; U undoes
  await page.getByTestId('tab-review').click();
  await expect(page.getByTestId('view-review')).toBeVisible();
  await expect(page.getByTestId('review-suggestion')).toBeVisible();
  await shot(page, '06-review');
  const totalText = async () => Number((await page.getByTestId('review-total').textContent())!.replace(/\D/g, ''));
  const total0 = await totalText();
  const first0 = await api<{ items: { photoId: number }[] }>(page, 'learn.suggestions', { limit: 1 });
  const pick = (await api<{ name: string }[]>(page, 'learn.labels')).findIndex((l) => l.name === 'Reds') + 1;
  await page.keyboard.press(String(pick));
  await expect.poll(totalText).toBe(total0 - 1);
  const reds = await api<{ name: string; confirmed: number }[]>(page, 'learn.labels');
  expect(reds.find((l) => l.name === 'Reds')?.confirmed).toBe(1);
  const first1 = await api<{ items: { photoId: number }[] }>(page, 'learn.suggestions', { limit: 1 });
  expect(first1.items[0]?.photoId).not.toBe(first0.items[0].photoId);
  await page.keyboard.press('u');
  await expect.poll(totalText).toBe(total0);
  await page.keyboard.press(String(pick));
  await expect.poll(totalText).toBe(total0 - 1);
  // per-label suggestions and "confirm all shown"
  // "confirm all shown": every shown suggestion is confirmed in one go
  const confirmedSum = async () => (await api<{ confirmed: number }[]>(page, 'learn.labels')).reduce((a, l) => a + l.confirmed, 0);
  const c0 = await confirmedSum();
  const shown = Number((await page.getByTestId('confirm-all').textContent())!.replace(/\D/g, ''));
  expect(shown).toBeGreaterThan(0);
  await page.getByTestId('confirm-all').click();
  await expect.poll(confirmedSum).toBe(c0 + shown);
  expect(errors).toEqual([]);
});

test('labels: rename, merge, delete, each undone', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  type L = { id: number; name: string; confirmed: number; assigned: number };
  const labels = () => api<L[]>(page, 'learn.labels');
  const names = async () => (await labels()).map((l) => l.name).sort();
  const members = (ls: L[], n: string) => { const l = ls.find((x) => x.name === n); return l ? l.confirmed + l.assigned : -1; };
  await page.goto(`${process.env.SIFT_E2E_URL!}&view=gallery`);
  const before = await labels();
  await page.getByTestId('manage-labels').click();
  const dialog = page.getByTestId('labels-dialog');
  await expect(dialog.getByTestId('label-row')).toHaveCount(before.length);
  const row = (n: string) => dialog.locator(`[data-testid=label-row][data-label="${n}"]`);
  await shot(page, '11-labels');

  // rename Blues -> Ocean; the gallery sidebar follows; Ctrl+Z puts the name back
  await row('Blues').getByTestId('label-name').fill('Ocean');
  await row('Blues').getByTestId('label-rename').click();
  await expect(row('Ocean')).toBeVisible();
  expect(await names()).toEqual(['Ocean', 'Reds']);
  await expect(page.getByTestId('filter-label-Ocean')).toBeVisible();
  await page.keyboard.press('ControlOrMeta+z');
  await expect(row('Blues')).toBeVisible();
  expect(await names()).toEqual(['Blues', 'Reds']);

  // merge Blues into Reds: Reds gets the photos; the dialog's Undo restores both labels exactly
  await row('Blues').getByTestId('label-merge-into').selectOption({ label: 'Reds' });
  await row('Blues').getByTestId('label-merge').click();
  await expect(dialog.getByTestId('label-row')).toHaveCount(1);
  const merged = await labels();
  expect(merged.map((l) => l.name)).toEqual(['Reds']);
  expect(members(merged, 'Reds')).toBe(members(before, 'Reds') + members(before, 'Blues'));
  await dialog.getByTestId('labels-undo').click();
  await expect(dialog.getByTestId('label-row')).toHaveCount(2);
  const restored = await labels();
  expect(members(restored, 'Reds')).toBe(members(before, 'Reds'));
  expect(members(restored, 'Blues')).toBe(members(before, 'Blues'));

  // delete Reds (after a confirm); undo brings it back with its photos
  page.once('dialog', (d) => void d.accept());
  await row('Reds').getByTestId('label-delete').click();
  await expect(dialog.getByTestId('label-row')).toHaveCount(1);
  expect(await names()).toEqual(['Blues']);
  await dialog.getByTestId('labels-undo').click();
  await expect(row('Reds')).toBeVisible();
  expect(members(await labels(), 'Reds')).toBe(members(before, 'Reds'));
  await dialog.getByTestId('labels-close').click();

  // the gallery's label and unlabeled filters are exact (learn.photos): the grid shows every photo of the label
  await page.getByTestId('filter-label-Reds').click();
  await expect(page.getByTestId('grid-count')).toHaveText(`${members(before, 'Reds')} photos`);
  await expect(page.getByTestId('tile')).toHaveCount(members(before, 'Reds'));
  const unlabeled = await api<{ total: number }>(page, 'learn.photos', { filter: 'unlabeled', limit: 1 });
  await page.getByTestId('filter-unlabeled').click();
  await expect(page.getByTestId('grid-count')).toHaveText(`${unlabeled.total} photos`);
  expect(errors).toEqual([]);
});

test('export sorted folders, files on disk, undo', async ({ page }) => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const dest = path.join(process.env.SIFT_E2E_TMP!, 'sorted');
  await page.goto(`${process.env.SIFT_E2E_URL!}&view=gallery`);
  await page.getByTestId('open-export').click();
  await expect(page.getByTestId('export-dialog')).toBeVisible();
  await page.getByTestId('export-to').fill(dest);
  await page.getByTestId('export-preview').click();
  await expect(page.getByTestId('export-plan')).toBeVisible();
  await expect(page.getByTestId('export-plan')).toContainText('Reds');
  await shot(page, '09-export-plan');
  expect(fs.existsSync(dest) && fs.readdirSync(dest).length > 0).toBe(false);   // a plan changes nothing
  await page.getByTestId('export-run').click();
  await expect(page.getByTestId('export-result')).toBeVisible({ timeout: 60_000 });
  await shot(page, '10-export-done');
  const reds = fs.readdirSync(path.join(dest, 'Reds')).filter((f) => f.endsWith('.jpg'));
  const blues = fs.readdirSync(path.join(dest, 'Blues')).filter((f) => f.endsWith('.jpg'));
  expect(reds.length).toBeGreaterThanOrEqual(6);
  expect(blues.length).toBeGreaterThanOrEqual(6);
  // the named cluster's photos are there (suggestions confirmed in the review may have added others)
  expect(reds.filter((f) => f.startsWith('red-circles')).length).toBeGreaterThanOrEqual(6);
  expect(blues.filter((f) => f.startsWith('blue-stripes')).length).toBeGreaterThanOrEqual(6);
  // originals untouched
  expect(fs.readdirSync(path.join(process.env.SIFT_E2E_PHOTOS!, 'red-circles'))).toHaveLength(8);

  // a killed export: the Blues files never got written and the process died mid-run (simulated in the journal,
  // as a kill -9 leaves it). The dialog lists it as interrupted; Resume finishes it.
  const { default: Database } = await import('better-sqlite3');
  const exportId = Number(await page.getByTestId('export-result').getAttribute('data-export'));
  const db = new Database(path.join(process.env.SIFT_E2E_TMP!, 'sift.db'));
  const blueItems = db.prepare(`SELECT id, dst FROM export_items WHERE export_id = ? AND state = 'done' AND dir LIKE '%/Blues'`).all(exportId) as { id: number; dst: string }[];
  expect(blueItems.length).toBeGreaterThanOrEqual(6);
  for (const it of blueItems) fs.unlinkSync(it.dst);
  db.prepare(`UPDATE export_items SET state = 'pending', dst = NULL, dst_hash = NULL, result = NULL WHERE id IN (${blueItems.map((i) => i.id).join(',')})`).run();
  db.prepare(`UPDATE exports SET state = 'running', pid = 2147483000, finished_at = NULL WHERE id = ?`).run(exportId);
  db.close();
  expect(fs.readdirSync(path.join(dest, 'Blues')).filter((f) => f.endsWith('.jpg'))).toEqual([]);
  await page.getByTestId('export-dialog').getByLabel('Close').click();
  await page.getByTestId('open-export').click();
  const past = page.locator(`[data-testid=export-past][data-export="${exportId}"]`);
  await expect(past.getByTestId('export-past-state')).toHaveText('interrupted');
  await shot(page, '12-export-history');
  await past.getByTestId('export-past-resume').click();
  await expect(page.getByTestId('export-result')).toBeVisible({ timeout: 60_000 });
  await expect(past.getByTestId('export-past-state')).toHaveText('done');
  expect(fs.readdirSync(path.join(dest, 'Blues')).filter((f) => f.endsWith('.jpg')).sort()).toEqual(blues.sort());

  page.once('dialog', (d) => void d.accept());
  await page.getByTestId('export-undo').click();
  await expect(page.getByTestId('export-undone')).toBeVisible({ timeout: 60_000 });
  expect(fs.existsSync(path.join(dest, 'Reds')) ? fs.readdirSync(path.join(dest, 'Reds')).filter((f) => f.endsWith('.jpg')) : []).toEqual([]);
  expect(fs.readdirSync(path.join(process.env.SIFT_E2E_PHOTOS!, 'red-circles'))).toHaveLength(8);
  await expect(past.getByTestId('export-past-state')).toHaveText('undone');
  await expect(past.getByTestId('export-past-undo')).toHaveCount(0);
});
