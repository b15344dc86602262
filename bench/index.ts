// bench:index — library indexing speed.
//
//   npm run bench:index -- [--n N] [--small M] [--keep DIR]
//
// 1. Generates N (default 200) distinct 12-megapixel JPEGs with EXIF (orientation, date, camera, GPS) in a temp
//    folder (or DIR with --keep, reused when it already holds them).
// 2. Reference: sharp thumbnailing alone of the same files (EXIF-rotated, 320 px long side, JPEG), as many
//    files at a time as the index uses worker threads (= cores).
// 3. sift index of the same files (stages off): photos/s beside the reference. Target: >= 0.8 x reference.
//    Also: CPU use over the index (all threads, in cores) and the longest event-loop stall of the caller.
// 4. Rescan of the unchanged library.
// 5. Unchanged rescan of M (default 10,000) small files (first index, then the timed rescan). Target < 2 s.
// Figures are printed beside their targets. Run it alone: `flock /tmp/bench.lock npm run bench:index`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import sharp from 'sharp';
import { Engine } from '../src/api/engine.ts';
import { cores } from '../src/util/workers.ts';
import { makeJpeg, makeImageBuffer } from '../test/helpers/fixtures.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => { const i = args.indexOf(`--${name}`); return i >= 0 && args[i + 1] ? args[i + 1] : def; };
const N = Number(opt('n', '200'));
const SMALL = Number(opt('small', '10000'));
const keep = opt('keep', '');
const work = keep ? path.resolve(keep) : fs.mkdtempSync(path.join(os.tmpdir(), 'sift-bench-index-'));
const C = cores();
const fmt = (x: number, d = 1) => x.toFixed(d);
const log = (s: string) => process.stdout.write(s + '\n');

async function pmap<T>(items: T[], conc: number, fn: (x: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(conc, items.length) }, async () => {
    while (next < items.length) { const i = next++; await fn(items[i], i); }
  }));
}

async function generate(dir: string): Promise<string[]> {
  const files = Array.from({ length: N }, (_, i) => path.join(dir, `IMG_${String(i).padStart(4, '0')}.jpg`));
  if (files.every((f) => fs.existsSync(f))) { log(`using ${N} existing photos in ${dir}`); return files; }
  fs.mkdirSync(dir, { recursive: true });
  const t = performance.now();
  const patterns = ['stripes', 'checker', 'circle', 'gradient', 'diagonal', 'rings', 'noise'] as const;
  const colors = ['red', 'green', 'blue', 'yellow', 'purple', 'orange', 'cyan', 'grey'];
  // camera-like grain over the whole frame, so the files have a camera's entropy (a few MB), not a smooth 1 MB
  const W = 4000, H = 3000;
  const grain = Buffer.alloc(W * H * 3);
  let a = 12345;
  for (let k = 0; k < grain.length; k++) { a = (Math.imul(a, 1103515245) + 12345) >>> 0; grain[k] = 128 + ((a >>> 16) % 41) - 20; }
  await pmap(files, C, async (f, i) => {
    const tmp = f + '.base.jpg';
    await makeJpeg(tmp, { width: W, height: H, pattern: patterns[i % patterns.length], color: colors[i % colors.length], seed: i + 1, noise: 40 });
    const offset = (i * 7919 * 3) % grain.length;
    const g = Buffer.concat([grain.subarray(offset), grain.subarray(0, offset)]);
    await sharp(tmp).composite([{ input: g, raw: { width: W, height: H, channels: 3 }, blend: 'overlay' }])
      .withExif({
        IFD0: { Make: 'Bench', Model: 'Cam 12MP' },
        IFD2: { DateTimeOriginal: `2021:01:${String(1 + (i % 28)).padStart(2, '0')} 10:${String(i % 60).padStart(2, '0')}:00` },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: `45/1 ${i % 60}/1 0/1`, GPSLongitudeRef: 'E', GPSLongitude: '7/1 0/1 0/1' },
      })
      .withMetadata({ orientation: [1, 6, 3, 8][i % 4] })
      .jpeg({ quality: 90 }).toFile(f);
    fs.rmSync(tmp);
  });
  log(`generated ${N} x 12 MP JPEGs in ${fmt((performance.now() - t) / 1000)} s (${fmt(files.reduce((s, f) => s + fs.statSync(f).size, 0) / N / 1e6, 2)} MB each)`);
  return files;
}

async function reference(files: string[]): Promise<{ rate: number; cores: number }> {
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  await pmap(files, C, async (f) => {
    await sharp(f).rotate().resize(320, 320, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 80 }).toBuffer();
  });
  const secs = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { rate: files.length / secs, cores: (cpu.user + cpu.system) / 1e6 / secs };
}

async function main() {
  log(`bench:index on ${os.cpus()[0]?.model ?? 'cpu'} x ${C} (shared machine: other processes may be running), Node ${process.version}`);
  const photosDir = path.join(work, 'photos');
  const files = await generate(photosDir);
  // warm the page cache for both runs
  for (const f of files) fs.readFileSync(f);

  const ref = await reference(files);
  const refRate = ref.rate;

  const dbDir = fs.mkdtempSync(path.join(work, 'db-'));
  const engine = new Engine({ dbPath: path.join(dbDir, 'sift.db') });
  engine.ctx.stages.length = 0;
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const s1 = await engine.call('library.index', { roots: [photosDir], stages: false });
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  h.disable();
  if (s1.added !== N || s1.failed.length) throw new Error(`index did not add ${N} photos: ${JSON.stringify({ ...s1, failed: s1.failed.slice(0, 5) })}`);
  const rate = N / wall;
  const t1 = performance.now();
  const s2 = await engine.call('library.index', {});
  const rescan = (performance.now() - t1) / 1000;
  if (s2.unchanged !== N) throw new Error('rescan did not find every photo unchanged');
  engine.close();

  // 10,000 small files: distinct content (a few base JPEGs with a distinct tail after the end marker)
  const smallDir = path.join(work, `small-${SMALL}`);
  const smallFiles = Array.from({ length: SMALL }, (_, i) => path.join(smallDir, `d${String(Math.floor(i / 500)).padStart(3, '0')}`, `s${i}.jpg`));
  if (!smallFiles.every((f) => fs.existsSync(f))) {
    const bases = await Promise.all(Array.from({ length: 16 }, (_, i) => makeImageBuffer({ width: 48, height: 32, seed: i + 1, pattern: 'checker', color: 'orange' })));
    for (const [i, f] of smallFiles.entries()) {
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, Buffer.concat([bases[i % bases.length], Buffer.from(`#${i}`)]));
    }
  }
  const e2 = new Engine({ dbPath: path.join(fs.mkdtempSync(path.join(work, 'db-small-')), 'sift.db') });
  e2.ctx.stages.length = 0;
  const t2 = performance.now();
  const first = await e2.call('library.index', { roots: [smallDir], stages: false });
  const firstSecs = (performance.now() - t2) / 1000;
  if (first.added !== SMALL) throw new Error(`small index added ${first.added}/${SMALL}: ${JSON.stringify(first.failed.slice(0, 3))}`);
  const t3 = performance.now();
  const again = await e2.call('library.index', {});
  const smallRescan = (performance.now() - t3) / 1000;
  if (again.unchanged !== SMALL) throw new Error('small rescan did not find every file unchanged');
  e2.close();

  const ratio = rate / refRate;
  log('');
  log(`figure                                   measured        reference / target`);
  log(`sharp thumbnailing alone (${C} at a time)   ${fmt(refRate).padStart(7)} photos/s   (reference; CPU ${fmt(ref.cores, 2)} cores)`);
  log(`sift index, ${N} x 12 MP, stages off     ${fmt(rate).padStart(7)} photos/s   = ${fmt(ratio, 2)} x reference; target >= 0.80 x  ${ratio >= 0.8 ? 'OK' : 'MISSED'}`);
  log(`  CPU over the index                     ${fmt((cpu.user + cpu.system) / 1e6 / wall, 2).padStart(7)} cores      of ${C}`);
  log(`  caller event loop, longest stall       ${fmt(h.max / 1e6, 0).padStart(7)} ms         p99 ${fmt(h.percentile(99) / 1e6, 0)} ms`);
  log(`rescan, ${N} unchanged                    ${fmt(rescan, 2).padStart(7)} s`);
  log(`first index, ${SMALL} small files         ${fmt(firstSecs, 1).padStart(7)} s          (${fmt(SMALL / firstSecs, 0)} files/s)`);
  log(`rescan, ${SMALL} unchanged small files    ${fmt(smallRescan, 2).padStart(7)} s          target < 2 s  ${smallRescan < 2 ? 'OK' : 'MISSED'}`);
  if (!keep) fs.rmSync(work, { recursive: true, force: true });
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
