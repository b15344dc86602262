// bench:sort — the simulated user sorting a real library.
//
//   npm run bench:sort -- <folder with one subfolder per true label> [--json] [--db FILE] [--max-actions N] [--quiet] [--no-split-existing]
//   npm run bench:sort -- --scale [--n 100000] [--labeled 10000] [--changes 11] [--pause-ms 11000]
//
// --scale: synthetic 424-d embeddings (planted groups) for N photos in a fresh database: times learn.cluster
// (target < 10 s for 100,000 on 2 cores) and retrain + re-predict after one change with `labeled` confirmed
// photos (target < 200 ms), and the caller's longest event-loop stall meanwhile (work runs in a worker).
//
// 1. Indexes the folder into a fresh database through the engine API (library.index, which embeds), unless
//    --db names an existing database that already holds the folder (re-used, its labels are cleared).
// 2. The simulated user (src/learn/simulate.ts: it can only do what the UI offers, one action each: name a
//    cluster, confirm a page of <= 50 correct suggestions, correct one photo, split) sorts the library;
//    photos split off into a label that exists cost two actions (split off, name the new cluster);
//    --no-split-existing forbids that (splits only into new labels);
//    the true label of a photo is the first subfolder of its path under the folder.
// 3. Prints the accuracy after each action, the actions to reach 90/95/98/99 %, and the total time, beside
//    the target (98 % in <= 4 % of the photo count) and the issue's reference (a simple k-means policy:
//    98 % in 83 actions on 875 photos = 9.5 %). With --json: one JSON object
//    {"photos":N,"labels":K,"actionsTo":{"90":a,"95":b,"98":c,"99":d},"seconds":s}.
// Run it alone on a quiet machine: `flock /tmp/bench.lock npm run bench:sort -- DIR`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../src/api/engine.ts';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { simulateUser } from '../src/learn/simulate.ts';
import { plantedGroups } from '../src/learn/synthetic.ts';
import { saveEmbedding } from '../src/vision/store.ts';
import { learnService } from '../src/api/handlers/learn.ts';

async function scale(): Promise<number> {
  const N = Number(opt('n') ?? 100_000), L = Number(opt('labeled') ?? 10_000);
  const dbPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sift-bench-sort-scale-')), 'sift.db');
  const engine = new Engine({ dbPath });
  try {
    let t = performance.now();
    const groups = 30;
    const set = plantedGroups({ dim: 424, groups, perGroup: Math.floor(N / groups), spread: 1.2, outliers: N - groups * Math.floor(N / groups), seed: 1 });
    const db = engine.ctx.db;
    const ins = db.prepare(`INSERT INTO photos (path, size, mtime_ms, status, added_at, updated_at) VALUES (?, 1, 0, 'ok', 0, 0)`);
    const ids: number[] = [];
    db.transaction(() => {
      for (let i = 0; i < set.n; i++) {
        const id = Number(ins.run(`/synthetic/${i}.jpg`).lastInsertRowid);
        ids.push(id);
        saveEmbedding(db, id, 'synthetic-424', set.data.subarray(i * 424, (i + 1) * 424));
      }
    })();
    log(`${set.n} synthetic photos (424-d, ${groups} planted groups) written in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    t = performance.now();
    const c1 = await engine.call('learn.cluster', {});
    const first = (performance.now() - t) / 1000;
    t = performance.now();
    const c2 = await engine.call('learn.cluster', {});
    const second = (performance.now() - t) / 1000;
    h.disable();
    log(`cluster ${set.n} photos: ${first.toFixed(2)} s first run (load + PCA features + clustering + store), ${second.toFixed(2)} s re-run (features cached); target < 10 s`);
    log(`  ${c1.clusters} clusters (planted ${groups}), ${c1.unclustered} unclustered; re-run kept ${c2.kept}/${c2.clusters} ids; longest event-loop stall ${(h.max / 1e6).toFixed(0)} ms`);
    // L confirmed photos over 20 labels
    const per = Math.floor(L / 20);
    for (let g = 0; g < 20; g++) {
      const photos = ids.filter((_, i) => set.truth[i] === g).slice(0, per);
      await engine.call('learn.label', { name: `L${g}`, photos });
    }
    const svc = learnService(engine.ctx);
    t = performance.now();
    await engine.call('learn.suggestions', { limit: 50 });
    log(`first train + predict (${L} labeled, ${set.n} photos, calibration): ${(performance.now() - t).toFixed(0)} ms wall, ${svc.lastTrainMs.toFixed(0)} ms in the worker`);
    const kernel = process.env.SIFT_LEARN_KERNEL === 'js' ? 'JS loops (SIFT_LEARN_KERNEL=js)' : 'ONNX (onnxruntime)';
    const stats = (a: number[]) => { const s = [...a].sort((x, y) => x - y); return { min: s[0], med: s[Math.floor(s.length / 2)], max: s[s.length - 1] }; };
    const fmt = (a: number[]) => { const s = stats(a); return `median ${s.med.toFixed(0)} ms (min ${s.min.toFixed(0)}, max ${s.max.toFixed(0)})`; };
    /** `changes` one-photo confirmations, each timed from the call until the retrained model's predictions exist */
    const retrains = async (changes: number, title: string, pauseMs = 0) => {
      const times: number[] = [], worker: number[] = [], fitMs: number[] = [], predictMs: number[] = [], changeMs: number[] = [];
      const h2 = monitorEventLoopDelay({ resolution: 10 });
      h2.enable();
      for (let k = 0; k < changes; k++) {
        // an unlabeled photo of group k % 20, from the end of the group (the labelled ones are the first of each group)
        if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
        const g = k % 20;
        const row = set.truth.findLastIndex((x, i) => x === g && !used.has(i));
        used.add(row);
        t = performance.now();
        const r = await engine.call('learn.confirm', { label: `L${g}`, photos: [ids[row]] });
        if (!r.entry) throw new Error('bench: the change did not change anything');
        changeMs.push(performance.now() - t);
        await svc.ensureModel();
        times.push(performance.now() - t); worker.push(svc.lastTrainMs);
        fitMs.push(svc.lastFitMs); predictMs.push(svc.lastPredictMs);
      }
      h2.disable();
      log(`${title}: ${changes} changes, each one confirmation → retrained + re-predicted model (warm start), kernels: ${kernel}; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
      log(`  from the call to the new model: ${fmt(times)} wall; ${fmt(worker)} in the workers; target < 200 ms; longest event-loop stall ${(h2.max / 1e6).toFixed(0)} ms`);
      log(`  each (ms, wall / fit / prediction): ${times.map((x, i) => `${x.toFixed(0)}/${fitMs[i].toFixed(0)}/${predictMs[i].toFixed(0)}`).join(' ')}`);
      log(`  of it: the change itself (learn.confirm) ${fmt(changeMs)}; fit (train + twin + gate data) ${fmt(fitMs)}; prediction of every row (over the pool's threads) ${fmt(predictMs)}`);
    };
    const used = new Set<number>();
    const changes = Number(opt('changes') ?? 11);
    await retrains(changes, `${L} confirmed`);
    // gallery filters (learn.photos): first and last page of 200 at this scale (the model is current)
    const filters: ['label' | 'unlabeled' | 'suggested' | 'confirmed', string | undefined][] = [['label', 'L0'], ['unlabeled', undefined], ['confirmed', undefined], ['confirmed', 'L3'], ['suggested', 'L1'], ['suggested', undefined]];
    for (const [filter, label] of filters) {
      t = performance.now();
      const r = await engine.call('learn.photos', { filter, label, limit: 200 });
      const firstPage = performance.now() - t;
      t = performance.now();
      await engine.call('learn.photos', { filter, label, offset: Math.max(0, r.total - 200), limit: 200 });
      log(`learn.photos ${filter}${label ? ` ${label}` : ''}: total ${r.total}, first page ${firstPage.toFixed(1)} ms, last page ${(performance.now() - t).toFixed(1)} ms`);
    }
    // with cluster-assigned photos too: naming clusters gives their photos the label as 'assigned', so the
    // retrain also fits the cross-fitted twin (and predicts its rows)
    const clusters = (await engine.call('learn.clusters', { includeNamed: false })).clusters.slice(0, 5);
    for (const [i, c] of clusters.entries()) await engine.call('learn.label', { name: `L${i}`, clusters: [c.id], photos: [] });
    const tAssigned = performance.now();
    await svc.ensureModel();
    const labels = await engine.call('learn.labels', {});
    const assigned = labels.reduce((s, l) => s + l.assigned, 0);
    log(`named ${clusters.length} clusters: ${assigned} cluster-assigned photos (cross-fitted twin), first retrain ${(performance.now() - tAssigned).toFixed(0)} ms`);
    await retrains(changes, `${L} confirmed + ${assigned} assigned`);
    // --pause-ms: changes after the user paused (the pool's second thread leaves after 10 s idle; the
    // features are re-checked against the store after 30 s)
    const pause = Number(opt('pause-ms') ?? 0);
    if (pause > 0) await retrains(3, `after a pause of ${pause} ms before each change`, pause);
    log('shared machine: timings are indicative');
    return 0;
  } finally {
    engine.close();
  }
}

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const opt = (name: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const positional = args.filter((a, i) => !a.startsWith('--') && !['--db', '--max-actions', '--n', '--labeled'].includes(args[i - 1]));
const folder = positional[0];
const json = flag('json');
const quiet = flag('quiet') || json;
const log = (s: string) => { if (!quiet) process.stdout.write(s + '\n'); };

async function main(): Promise<number> {
  if (flag('scale')) return scale();
  if (!folder || !fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) {
    process.stderr.write('usage: npm run bench:sort -- <folder with one subfolder per true label> [--json] [--db FILE] [--max-actions N] [--no-split-existing]\n');
    return 2;
  }
  const root = path.resolve(folder);
  const t0 = performance.now();
  const dbPath = opt('db') ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sift-bench-sort-')), 'sift.db');
  const engine = new Engine({ dbPath });
  try {
    const ti = performance.now();
    const idx = await engine.call('library.index', { roots: [root] });
    log(`indexed ${idx.found} file(s) (${idx.added} new, ${idx.failed.length} failed) in ${((performance.now() - ti) / 1000).toFixed(1)} s -> ${dbPath}`);
    // a re-used database starts from no labels
    engine.ctx.db.exec('DELETE FROM labels; DELETE FROM learn_journal; DELETE FROM cluster_names; DELETE FROM cluster_members; DELETE FROM clusters;');
    const photos = await engine.call('library.photos', { status: 'ok' });
    const truth = new Map<number, string>();
    for (const p of photos) {
      const rel = path.relative(root, p.path);
      const parts = rel.split(path.sep);
      if (parts.length < 2 || rel.startsWith('..')) continue; // files directly in the folder have no true label
      truth.set(p.id, parts[0]);
    }
    const embedded = new Set((engine.ctx.db.prepare('SELECT DISTINCT photo_id FROM embeddings').raw().all() as [number][]).map((r) => r[0]));
    const missing = [...truth.keys()].filter((id) => !embedded.has(id)).length;
    if (missing) log(`warning: ${missing} photo(s) have no embedding (they count as wrong)`);
    log(`${truth.size} photo(s) in ${new Set(truth.values()).size} label folder(s); target: 98 % in <= ${Math.floor(truth.size * 0.04)} actions (4 %); reference (issue, simple k-means policy): 98 % in 9.5 % of the photos`);
    const maxActions = opt('max-actions') ? Number(opt('max-actions')) : undefined;
    const splitIntoExisting = !flag('no-split-existing');
    if (!splitIntoExisting) log('rule: photos can be split off only into a NEW label (no split into a label that exists)');
    const r = await simulateUser(engine, truth, {
      maxActions, splitIntoExisting,
      onAction: (s) => log(`${String(s.action).padStart(4)}  ${(s.accuracy * 100).toFixed(1).padStart(5)} %  ${s.kind.padEnd(12)} ${s.detail}  (${Math.round(s.ms)} ms)`),
    });
    const seconds = (performance.now() - t0) / 1000;
    const out = { photos: r.photos, labels: r.labels, actionsTo: r.actionsTo, seconds: Math.round(seconds * 10) / 10 };
    if (json) { process.stdout.write(JSON.stringify(out) + '\n'); return 0; }
    log('');
    for (const k of ['90', '95', '98', '99'] as const) {
      const a = r.actionsTo[k];
      log(`${k} %: ${a === null ? 'not reached' : `${a} action(s) = ${(100 * a / r.photos).toFixed(1)} % of the photos (${(1000 * a / r.photos).toFixed(0)} per 1,000)`}`);
    }
    const a98 = r.actionsTo['98'];
    log(`target 98 % in <= 40 per 1,000: ${a98 !== null && a98 <= 0.04 * r.photos ? 'MET' : 'NOT MET'}; final accuracy ${(r.finalAccuracy * 100).toFixed(1)} % after ${r.steps.length} action(s)`);
    log(`total ${seconds.toFixed(1)} s (index + simulation); shared machine: timings are indicative`);
    return 0;
  } finally {
    engine.close();
  }
}

main().then((c) => { process.exitCode = c; }, (e) => { process.stderr.write(`bench:sort: ${(e as Error)?.stack ?? e}\n`); process.exitCode = 1; });
