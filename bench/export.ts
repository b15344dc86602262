// Benchmark: export throughput in copy mode vs plain fs.copyFile of the same files (target >= 0.9x).
//
//   npm run bench:export -- [LIBRARY_DIR] [--out DIR] [--rounds N]
//
// LIBRARY_DIR: a folder of photos (e.g. the dev-library of the shared data; labels = manifest.csv when present,
// else the parent folder name). Without it, a synthetic library is generated with sharp. The photos are put
// in a fresh Sift database (hash like the indexer), then, alternately, each round:
//   baseline: fs.copyFile of every file into OUT/base/<label>/<name>, one at a time and 4 at a time (the better counts)
//   sift:     export.plan + export.run (copy mode, journaled, hash-verified) into OUT/sift-N
// Page cache is warm for both (every source is read once before the first round). Figures: median of rounds.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { xxh3 } from '@node-rs/xxhash';
import { Engine } from '../src/api/engine.ts';

const args = process.argv.slice(2);
const flag = (name: string) => { const i = args.indexOf(name); if (i < 0) return undefined; const v = args[i + 1]; args.splice(i, 2); return v; };
const outRoot = flag('--out') ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sift-bench-export-'));
const rounds = Number(flag('--rounds') ?? 5);
const libArg = args[0];
const TARGET = 0.9;

function walk(d: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.isFile() && /\.(jpe?g|png|webp|heic|heif|tiff?|avif|gif)$/i.test(e.name)) out.push(p);
  }
  return out.sort();
}

async function synthetic(dir: string, n: number): Promise<{ file: string; label: string }[]> {
  const sharp = (await import('sharp')).default;
  const out: { file: string; label: string }[] = [];
  for (let i = 0; i < n; i++) {
    const label = `label${i % 8}`;
    const file = path.join(dir, label, `IMG_${String(i).padStart(4, '0')}.jpg`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const raw = Buffer.alloc(480 * 360 * 3);
    for (let k = 0; k < raw.length; k++) raw[k] = (k * 31 + i * 97 + ((k * 2654435761) >>> 24)) & 255;
    await sharp(raw, { raw: { width: 480, height: 360, channels: 3 } }).jpeg({ quality: 90 }).toFile(file);
    out.push({ file, label });
  }
  return out;
}

async function main() {
  let photos: { file: string; label: string }[];
  let source: string;
  if (libArg) {
    const root = path.resolve(libArg);
    const manifest = path.join(root, 'manifest.csv');
    const labels = new Map<string, string>();
    if (fs.existsSync(manifest)) {
      for (const line of fs.readFileSync(manifest, 'utf8').split(/\r?\n/).slice(1)) {
        const [p, l] = line.split(',');
        if (p && l) labels.set(path.resolve(root, p), l);
      }
    }
    photos = walk(root).map((file) => ({ file, label: labels.get(file) ?? path.basename(path.dirname(file)) }));
    source = root;
  } else {
    source = path.join(outRoot, 'synthetic');
    photos = await synthetic(source, 400);
  }
  const dbPath = path.join(outRoot, 'bench.db');
  fs.rmSync(dbPath, { force: true });
  const engine = new Engine({ dbPath, dataDir: path.join(outRoot, 'data') });
  const db = engine.ctx.db;
  const now = Date.now();
  let bytes = 0;
  db.transaction(() => {
    const ins = db.prepare(`INSERT INTO photos (path, size, mtime_ms, hash, status, added_at, updated_at) VALUES (?, ?, ?, ?, 'ok', ?, ?)`);
    const lab = db.prepare(`INSERT OR IGNORE INTO labels (name, created_at) VALUES (?, ?)`);
    const pl = db.prepare(`INSERT INTO photo_labels (photo_id, label_id, state, updated_at) VALUES (?, (SELECT id FROM labels WHERE name = ?), 'confirmed', ?)`);
    for (const p of photos) {
      const buf = fs.readFileSync(p.file);  // also warms the page cache
      bytes += buf.length;
      const id = ins.run(p.file, buf.length, now, xxh3.xxh128(buf).toString(16).padStart(32, '0'), now, now).lastInsertRowid;
      lab.run(p.label, now);
      pl.run(id, p.label, now);
    }
  })();

  const baseline = async (conc: number, dest: string) => {
    const t0 = performance.now();
    const made = new Set<string>();
    let next = 0;
    await Promise.all(Array.from({ length: conc }, async () => {
      while (next < photos.length) {
        const p = photos[next++];
        const d = path.join(dest, p.label);
        if (!made.has(d)) { fs.mkdirSync(d, { recursive: true }); made.add(d); }
        await fs.promises.copyFile(p.file, path.join(d, path.basename(p.file)));
      }
    }));
    return (performance.now() - t0) / 1000;
  };

  const res = { seq: [] as number[], conc: [] as number[], sift: [] as number[], siftRun: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    const b1 = path.join(outRoot, `base-seq-${r}`), b4 = path.join(outRoot, `base-c4-${r}`), s = path.join(outRoot, `sift-${r}`);
    res.seq.push(await baseline(1, b1));
    res.conc.push(await baseline(4, b4));
    const t0 = performance.now();
    const plan = await engine.call('export.plan', { to: s, mode: 'copy' });
    const t1 = performance.now();
    const run = await engine.call('export.run', { exportId: plan.exportId });
    const t2 = performance.now();
    if (run.created !== photos.length || run.failedTotal) throw new Error(`export incomplete: ${JSON.stringify(run).slice(0, 500)}`);
    res.sift.push((t2 - t0) / 1000);
    res.siftRun.push((t2 - t1) / 1000);
    for (const d of [b1, b4, s]) fs.rmSync(d, { recursive: true, force: true });
  }
  engine.close();
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const mbps = (s: number) => (bytes / 1e6 / s).toFixed(1);
  const base = Math.min(med(res.seq), med(res.conc));
  const ratio = base / med(res.sift);
  const ratioRun = base / med(res.siftRun);
  console.log(`export benchmark: ${photos.length} files, ${(bytes / 1e6).toFixed(1)} MB from ${libArg ? source : 'a synthetic library'} to ${outRoot}; ${rounds} rounds, median; shared machine: ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(2)}`);
  console.log(`  plain fs.copyFile, 1 at a time     ${med(res.seq).toFixed(3)} s  ${mbps(med(res.seq))} MB/s  ${(photos.length / med(res.seq)).toFixed(0)} files/s`);
  console.log(`  plain fs.copyFile, 4 at a time     ${med(res.conc).toFixed(3)} s  ${mbps(med(res.conc))} MB/s  ${(photos.length / med(res.conc)).toFixed(0)} files/s`);
  console.log(`  sift export (plan + run, verified) ${med(res.sift).toFixed(3)} s  ${mbps(med(res.sift))} MB/s  ${(photos.length / med(res.sift)).toFixed(0)} files/s`);
  console.log(`  sift export run only               ${med(res.siftRun).toFixed(3)} s  ${mbps(med(res.siftRun))} MB/s`);
  console.log(`  throughput vs the faster plain copy: ${ratio.toFixed(2)}x (plan + run), ${ratioRun.toFixed(2)}x (run only)   target >= ${TARGET}x   ${ratio >= TARGET ? 'PASS' : 'BELOW TARGET'}`);
  if (!args.includes('--keep')) fs.rmSync(outRoot, { recursive: true, force: true });
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
