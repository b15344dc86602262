// First paint first. When the app opens on the gallery (?view=gallery), the calls the first screen does not need
// (library.status, learn.labels, jobs.list) wait until the first tiles' thumbnails are on screen: the engine
// answers calls one at a time, and at 100k photos library.status alone takes 150–300 ms, which would sit in front
// of the first page and the thumbnails. Any other first view needs the status at once, so nothing waits.

const galleryFirst = new URLSearchParams(location.search).get('view') === 'gallery';
/** The first tiles (in grid order: the top rows of the first screen) whose thumbnails load before the rest of
 *  the app's calls go out. Counting any 24 thumbnails would let the calls out while the top-left ones still load. */
const FIRST_TILES = 24;
/** Never hold the other calls back longer than this. */
const MAX_WAIT_MS = 1500;

let open: () => void = () => {};
/** Resolves once the first gallery screen is painted (at once when the app does not open on the gallery). */
export const firstPaint: Promise<void> = new Promise<void>((r) => { open = r; });
let done = false;
export function markFirstPaint(): void {
  if (done) return;
  done = true;
  open();
}
if (!galleryFirst) markFirstPaint();
else setTimeout(markFirstPaint, MAX_WAIT_MS);

let need = FIRST_TILES;
const settled = new Set<number>();
/** The thumbnail of the gallery tile at `index` finished loading (or failed). */
export function thumbSettled(index: number): void {
  if (done || index >= need) return;
  settled.add(index);
  if (settled.size >= need) requestAnimationFrame(() => markFirstPaint());
}
/** The first page of the gallery arrived with `n` photos: a small library waits for its n tiles only. */
export function firstPageShown(n: number): void {
  need = Math.min(need, n);
  if (!done && settled.size >= need) requestAnimationFrame(() => markFirstPaint());
}

/** `fn` after the first paint: for calls the first screen does not need. */
export function afterFirstPaint<T>(fn: () => Promise<T>): Promise<T> {
  return done ? fn() : firstPaint.then(fn);
}

/** Whether the app opened on the gallery (the status is then loaded after the first paint). */
export const opensOnGallery = galleryFirst;
