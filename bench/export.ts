// Benchmark: export throughput in copy mode vs plain fs.copyFile of the same files (target >= 0.9x).
//
//   npm run bench:export -- [LIBRARY_DIR] [--rounds N] [--synthetic-size KB] [--synthetic-count N] [--to-disk] [--out DIR] [--keep] [--verbose]
//
// LIBRARY_DIR: a folder of photos (e.g. the dev-library of the shared data; labels = manifest.csv when present,
// else the parent folder name). Without it, a synthetic library is generated with sharp: --synthetic-count JPEGs
// (default 400) of about --synthetic-size kB each (default 123). The photos are put in a fresh Sift database
// (hash like the indexer). Then, each round, in an order that rotates from round to round (so that a slow
// stretch of a shared machine does not always hit the same contender):
//   plain-1:  fs.copyFile of every file into OUT/base/<label>/<name>, one at a time
//   plain-4:  the same, 4 at a time                      (the faster of the two, per round, is the reference)
//   sift:     export.plan + export.run through the engine API (copy mode, journaled, hash-verified)
// Page cache is warm for both (every source is read once before the first round); the outputs are kept until the
// end of the run when they fit (else each is deleted after its measurement; see `keepAll`). Figures: medians over the rounds, and the median of the per-round ratios (each round's sift
// time against that round's reference). Round 1 of sift includes starting the copy workers (printed apart).
// CPU time (user + system, all threads of this process) is printed too: on a loaded machine it moves much less
// than wall time, so it shows the cost per file when the wall-clock ratio is noise.
//
// --to-disk: the export as a user meets it with a library that is not all in memory. Before each measurement the
// dirty pages are written out and the sources are evicted from the page cache (posix_fadvise DONTNEED through
// python3: the photos leave memory, the running program and its database stay, as in a running app; without
// python3, /proc/sys/vm/drop_caches as root, which also evicts the programs' code; else the sources stay cached and
// the run says so), and each measurement lasts until its copies are on disk (`sync -f` of the destination's file
// system, timed). The default measures in the page cache, where a copy is a memcpy in the
// kernel and the verification's read-back + hash is extra CPU of about the same size (see README, Export).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../src/api/engine.ts';
import { xxh128Hex } from '../src/util/hash.ts';

const args = process.argv.slice(2);
const flag = (name: string) => { const i = args.indexOf(name); if (i < 0) return undefined; const v = args[i + 1]; args.splice(i, 2); return v; };
const outRoot = flag('--out') ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sift-bench-export-'));
const rounds = Number(flag('--rounds') ?? 7);
const synthKb = Number(flag('--synthetic-size') ?? 123);
const synthCount = Number(flag('--synthetic-count') ?? 400);
const keep = args.includes('--keep');
const toDisk = args.includes('--to-disk');
if (toDisk) args.splice(args.indexOf('--to-disk'), 1);
const verbose = args.includes('--verbose');
if (verbose) args.splice(args.indexOf('--verbose'), 1);
if (keep) args.splice(args.indexOf('--keep'), 1);
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

async function synthetic(dir: string, n: number, kb: number): Promise<{ file: string; label: string }[]> {
  const sharp = (await import('sharp')).default;
  const out: { file: string; label: string }[] = [];
  // 480 x 360 of this pattern at quality 90 is about 123 kB; scale the pixel count with the wanted size
  const scale = Math.sqrt(Math.max(0.01, kb / 123));
  const w = Math.max(16, Math.round(480 * scale)), h = Math.max(16, Math.round(360 * scale));
  for (let i = 0; i < n; i++) {
    const label = `label${i % 8}`;
    const file = path.join(dir, label, `IMG_${String(i).padStart(4, '0')}.jpg`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const raw = Buffer.alloc(w * h * 3);
    for (let k = 0; k < raw.length; k++) raw[k] = (k * 31 + i * 97 + ((k * 2654435761) >>> 24)) & 255;
    await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toFile(file);
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
    photos = await synthetic(source, synthCount, synthKb);
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
      const id = ins.run(p.file, buf.length, now, xxh128Hex(buf), now, now).lastInsertRowid;
      lab.run(p.label, now);
      pl.run(id, p.label, now);
    }
  })();

  // --to-disk: flush and drop the page cache before a measurement; end it when the copies are on disk
  let evicted: 'sources' | 'all' | 'none' = 'sources';
  const EVICT = 'import os, sys\nfor f in sys.stdin.read().split("\\0"):\n  if f:\n    fd = os.open(f, os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)\n';
  const settle = () => {
    if (!toDisk) return;
    execFileSync('sync');
    if (evicted === 'sources') {
      try { execFileSync('python3', ['-c', EVICT], { input: photos.map((p) => p.file).join('\0'), stdio: ['pipe', 'ignore', 'pipe'] }); return; } catch { evicted = 'all'; }
    }
    if (evicted === 'all') {
      try { fs.writeFileSync('/proc/sys/vm/drop_caches', '3'); } catch { evicted = 'none'; }
    }
  };
  // --to-disk: how much data was still only in memory (Dirty in /proc/meminfo) when a contender returned, before the
  // sync: what its own write-back had not started yet
  const dirtyMb = (): number => { try { return Number(/^Dirty:\s+(\d+)/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? NaN) / 1024; } catch { return NaN; } };
  const dirty: Record<'seq' | 'conc' | 'sift', number[]> = { seq: [], conc: [], sift: [] };
  const flushed = (who: 'seq' | 'conc' | 'sift') => { if (toDisk) { dirty[who].push(dirtyMb()); execFileSync('sync', ['-f', outRoot]); } };

  const cpu: Record<'seq' | 'conc' | 'sift', number[]> = { seq: [], conc: [], sift: [] };
  const cpuOf = (c0: NodeJS.CpuUsage) => { const c = process.cpuUsage(c0); return (c.user + c.system) / 1e6; };
  const baseline = async (conc: number, dest: string) => {
    settle();
    const c0 = process.cpuUsage();
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
    flushed(conc === 1 ? 'seq' : 'conc');
    const t = (performance.now() - t0) / 1000;
    cpu[conc === 1 ? 'seq' : 'conc'].push(cpuOf(c0));
    return t;
  };

  const load0 = os.loadavg();
  const res = { seq: [] as number[], conc: [] as number[], sift: [] as number[], siftRun: [] as number[], siftPlan: [] as number[], ratio: [] as number[], ratioRun: [] as number[] };
  const siftRound = async (r: number) => {
    const s = path.join(outRoot, `sift-${r}`);
    settle();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const plan = await engine.call('export.plan', { to: s, mode: 'copy' });
    const t1 = performance.now();
    const run = await engine.call('export.run', { exportId: plan.exportId });
    flushed('sift');
    const t2 = performance.now();
    cpu.sift.push(cpuOf(c0));
    if (run.created !== photos.length || run.failedTotal) throw new Error(`export incomplete: ${JSON.stringify(run).slice(0, 500)}`);
    drop(s);
    return { all: (t2 - t0) / 1000, plan: (t1 - t0) / 1000, run: (t2 - t1) / 1000 };
  };
  // The outputs stay until the end of the run when they fit (3 copies per round in a fifth of the free space):
  // deleting thousands of files between measurements makes the next ones slower to create on a file system
  // without a journal (ext4 then skips inodes freed in the last minutes, checking each one: see README), and
  // that cost falls on whichever contender comes next. Otherwise each output is deleted after its measurement.
  const free = (() => { try { const f = fs.statfsSync(outRoot); return f.bavail * f.bsize; } catch { return 0; } })();
  const keepAll = 3 * rounds * bytes < free / 5;
  const drop = (d: string) => { if (!keepAll) fs.rmSync(d, { recursive: true, force: true }); };
  let cold: { all: number; plan: number; run: number } | null = null;
  for (let r = 0; r < rounds; r++) {
    const b1 = path.join(outRoot, `base-seq-${r}`), b4 = path.join(outRoot, `base-c4-${r}`);
    const steps: (() => Promise<void>)[] = [
      async () => { res.seq.push(await baseline(1, b1)); drop(b1); },
      async () => { res.conc.push(await baseline(4, b4)); drop(b4); },
      async () => {
        const t = await siftRound(r);
        if (r === 0) cold = t;
        res.sift.push(t.all); res.siftRun.push(t.run); res.siftPlan.push(t.plan);
      },
    ];
    for (let k = 0; k < steps.length; k++) await steps[(k + r) % steps.length]();
    const ref = Math.min(res.seq[r], res.conc[r]);
    res.ratio.push(ref / res.sift[r]);
    if (verbose) console.log(`  round ${r + 1}: plain-1 ${res.seq[r].toFixed(3)} s, plain-4 ${res.conc[r].toFixed(3)} s, sift ${res.siftPlan[r].toFixed(3)} + ${res.siftRun[r].toFixed(3)} s`);
    res.ratioRun.push(ref / res.siftRun[r]);
  }
  await engine.close();
  const med = (a: number[]) => { const b = [...a].sort((x, y) => x - y); return b.length % 2 ? b[b.length >> 1] : (b[b.length / 2 - 1] + b[b.length / 2]) / 2; };
  const mbps = (s: number) => (bytes / 1e6 / s).toFixed(1);
  const fps = (s: number) => (photos.length / s).toFixed(0);
  const base = Math.min(med(res.seq), med(res.conc));
  const ratio = med(res.ratio);
  const ratioRun = med(res.ratioRun);
  const load1 = os.loadavg();
  const la = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const line = (name: string, s: number, c?: number[], d?: number[]) => `  ${name.padEnd(36)} ${s.toFixed(3)} s  ${mbps(s).padStart(6)} MB/s  ${fps(s).padStart(5)} files/s${c ? `   CPU ${med(c).toFixed(3)} s (all threads)` : ''}${d?.length ? `   not yet written back when it returned: ${med(d).toFixed(0)} MB` : ''}`;
  console.log(`export benchmark: ${photos.length} files, ${(bytes / 1e6).toFixed(1)} MB (${(bytes / photos.length / 1e3).toFixed(0)} kB average) from ${libArg ? source : 'a synthetic library'} to ${outRoot}`);
  console.log(`  ${rounds} rounds (order rotated), medians; ${os.cpus().length} cores; load average ${la(load0)} before, ${la(load1)} after; outputs ${keepAll ? 'kept until the end' : 'deleted after each measurement (not enough free space to keep them)'}`);
  console.log(toDisk
    ? `  to disk: each time includes sync -f of the destination; ${{
      sources: 'the sources were evicted from the page cache before each measurement (read from disk)',
      all: 'the whole page cache was dropped before each measurement (no python3): sources and program code read from disk',
      none: 'the sources could NOT be evicted (no python3, not root): they were read from memory',
    }[evicted]}`
    : '  in the page cache: sources cached, copies not flushed to disk (--to-disk measures until they are on disk)');
  console.log(line('plain fs.copyFile, 1 at a time', med(res.seq), cpu.seq, dirty.seq));
  console.log(line('plain fs.copyFile, 4 at a time', med(res.conc), cpu.conc, dirty.conc));
  console.log(line('sift export: plan + run (verified)', med(res.sift), cpu.sift, dirty.sift));
  console.log(line('sift export: run only', med(res.siftRun)));
  console.log(`  ${'sift export: plan only'.padEnd(36)} ${med(res.siftPlan).toFixed(3)} s`);
  if (cold) console.log(`  ${'sift round 1 (starts the workers)'.padEnd(36)} ${(cold as { all: number }).all.toFixed(3)} s plan + run`);
  console.log(`  per-round ratios (plan + run): ${res.ratio.map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`  throughput vs the faster plain copy (median of per-round ratios): ${ratio.toFixed(2)}x (plan + run), ${ratioRun.toFixed(2)}x (run only); ratio of medians ${(base / med(res.sift)).toFixed(2)}x / ${(base / med(res.siftRun)).toFixed(2)}x   target >= ${TARGET}x   ${ratio >= TARGET ? 'PASS' : 'BELOW TARGET'}`);
  if (!keep) fs.rmSync(outRoot, { recursive: true, force: true });
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
