// The simulated user of bench:sort (and of tests on synthetic libraries). It knows every photo's true
// label, and can only do what the UI offers, each counted as ONE action:
//   - name a cluster (it takes the majority true label of the cluster's photos),
//   - confirm a page of suggestions for a label (<= pageSize, the most confident first) that are all
//     correct: the user confirms the leading run of correct suggestions of the page ("confirm up to here"),
//   - correct one photo (move it to its true label), picked from the review queue's first pages,
//   - split selected photos of a shown cluster off into a new label (only for a true label that has no
//     label yet).
// It looks only at what the UI shows first (the first `showClusters` clusters, the first page of each
// label's suggestions, the first pages of the review queue) and greedily takes the action that makes the
// most photos correct now; when no bulk action helps, it corrects the first wrong photo of the queue.
// Accuracy = share of photos whose effective label (v_photo_labels) is their true label.
import type { Input, MethodName, Output } from '../api/contract/index.ts';

export interface LearnClient { call<K extends MethodName>(name: K, input: Input<K>): Promise<Output<K>> }

export interface SimOptions {
  pageSize?: number;
  showClusters?: number;
  /** stop after this many actions (default: the number of photos) */
  maxActions?: number;
  /** stop when accuracy reaches this (default 1) */
  stopAt?: number;
  onAction?: (a: SimStep) => void;
  /** allow splitting photos off into a label that exists (two actions: split, then name). Default true */
  splitIntoExisting?: boolean;
}

export interface SimStep { action: number; kind: 'name-cluster' | 'confirm-page' | 'correct' | 'split'; detail: string; gain: number; accuracy: number; ms: number }

export interface SimResult {
  photos: number;
  labels: number;
  actionsTo: { '90': number | null; '95': number | null; '98': number | null; '99': number | null };
  seconds: number;
  steps: SimStep[];
  initialAccuracy: number;
  finalAccuracy: number;
}

export async function simulateUser(client: LearnClient, truth: Map<number, string>, opts: SimOptions = {}): Promise<SimResult> {
  const t0 = performance.now();
  const pageSize = opts.pageSize ?? 50;
  const showClusters = opts.showClusters ?? 20;
  const maxActions = opts.maxActions ?? truth.size;
  const stopAt = opts.stopAt ?? 1;
  const N = truth.size;
  const trueLabels = new Set(truth.values());
  const norm = (s: string) => s.toLowerCase();

  const effective = async () => new Map((await client.call('learn.photoLabels', {})).map((r) => [r.photoId, r]));
  const accuracyOf = (eff: Map<number, { label: string }>) => {
    let ok = 0;
    for (const [id, t] of truth) { const e = eff.get(id); if (e && norm(e.label) === norm(t)) ok++; }
    return ok / N;
  };

  await client.call('learn.cluster', {});
  let eff = await effective();
  const initialAccuracy = accuracyOf(eff);
  const steps: SimStep[] = [];
  const actionsTo: SimResult['actionsTo'] = { '90': null, '95': null, '98': null, '99': null };
  const mark = (acc: number, n: number) => {
    for (const k of ['90', '95', '98', '99'] as const) if (actionsTo[k] === null && acc >= Number(k) / 100 - 1e-9) actionsTo[k] = n;
  };
  mark(initialAccuracy, 0);
  let acc = initialAccuracy;
  let reclustered = false;

  while (steps.length < maxActions && acc < stopAt - 1e-9) {
    const ts = performance.now();
    const labels = await client.call('learn.labels', {});
    const labelNames = new Set(labels.map((l) => norm(l.name)));
    type Cand = { kind: SimStep['kind']; gain: number; cost: number; detail: string; run: () => Promise<unknown> };
    const cands: Cand[] = [];
    const isWrong = (id: number) => { const e = eff.get(id); return !e || norm(e.label) !== norm(truth.get(id)!); };

    // clusters shown first
    let list = await client.call('learn.clusters', { includeNamed: false });
    if (list.clusters.length === 0 && !reclustered && list.unclustered > 0) {
      await client.call('learn.cluster', {});
      list = await client.call('learn.clusters', { includeNamed: false });
      reclustered = true;
    }
    // named clusters are listed after the unnamed ones: the user can still open them to split photos off
    const named = (await client.call('learn.clusters', { includeNamed: true })).clusters.filter((c) => c.label);
    for (const c of [...list.clusters.slice(0, showClusters), ...named.slice(0, showClusters)]) {
      const { photoIds } = await client.call('learn.clusterPhotos', { id: c.id, limit: 100_000 });
      const votes = new Map<string, number>();
      for (const id of photoIds) { const t = truth.get(id); if (t !== undefined) votes.set(t, (votes.get(t) ?? 0) + 1); }
      let major = '', mv = -1;
      for (const [t, v] of votes) if (v > mv) { major = t; mv = v; }
      if (!major) continue;
      let gain = 0;
      for (const id of photoIds) {
        const e = eff.get(id);
        if (e?.state === 'confirmed') continue;
        const t = truth.get(id);
        if (t === major) { if (isWrong(id)) gain++; } else if (e && t !== undefined && norm(e.label) === norm(t)) gain--;
      }
      if (!c.label) cands.push({ kind: 'name-cluster', cost: 1, gain, detail: `c${c.id} (${photoIds.length}) as ${major}`, run: () => client.call('learn.label', { name: major, clusters: [c.id] }) });
      // split: select the photos of another true label in the cluster and split them off. Into a new label:
      // one action. Into a label that exists: split off into a new cluster, then name that cluster with the
      // label: two actions.
      const own = c.label ? norm(c.label.name) : norm(major);
      for (const t of votes.keys()) {
        if (norm(t) === own) continue;
        const sel = photoIds.filter((id) => truth.get(id) === t && isWrong(id) && eff.get(id)?.state !== 'confirmed');
        if (sel.length === 0) continue;
        const exists = labelNames.has(norm(t));
        if (exists && opts.splitIntoExisting === false) continue;
        cands.push({
          kind: 'split', cost: exists ? 2 : 1, gain: sel.length, detail: `${sel.length} photo(s) of c${c.id} into ${exists ? 'a new cluster, named' : 'new label'} ${t}`,
          // exactly the two UI actions: split off into a new cluster, then name it (its photos get the label as
          // cluster-assigned, like any named cluster)
          run: exists
            ? async () => { const r = await client.call('learn.split', { photos: sel }); await client.call('learn.label', { name: t, clusters: [r.clusterId!], photos: [] }); }
            : () => client.call('learn.split', { photos: sel, name: t }),
        });
      }
    }
    // one page of suggestions per label
    for (const l of labels) {
      const page = await client.call('learn.suggestions', { label: l.id, limit: pageSize });
      const prefix: number[] = [];
      for (const it of page.items) { if (norm(truth.get(it.photoId) ?? '') !== norm(l.name)) break; prefix.push(it.photoId); }
      if (prefix.length === 0) continue;
      cands.push({ kind: 'confirm-page', cost: 1, gain: prefix.filter(isWrong).length, detail: `${prefix.length} suggestion(s) of ${l.name}`, run: () => client.call('learn.confirm', { label: l.id, photos: prefix }) });
    }
    const order: Record<SimStep['kind'], number> = { 'name-cluster': 0, 'confirm-page': 1, split: 2, correct: 3 };
    cands.sort((a, b) => b.gain / b.cost - a.gain / a.cost || order[a.kind] - order[b.kind]);
    let pick = cands[0] && cands[0].gain / cands[0].cost > 1 ? cands[0] : undefined;
    if (!pick) {
      // correct the first wrong photo the review queue shows
      for (let offset = 0; !pick; offset += pageSize) {
        const q = await client.call('learn.suggestions', { offset, limit: pageSize });
        if (q.items.length === 0) break;
        const it = q.items.find((x) => isWrong(x.photoId) && truth.has(x.photoId));
        if (it) {
          const t = truth.get(it.photoId)!;
          pick = { kind: 'correct', cost: 1, gain: 1, detail: `photo ${it.photoId} -> ${t}${it.current ? ` (was ${it.current.label})` : ''}`, run: () => client.call('learn.label', { name: t, photos: [it.photoId] }) };
        }
      }
      if (!pick) pick = cands.find((c) => c.gain > 0 && c.cost === 1);
      if (!pick) break;
    }
    await pick.run();
    if (pick.cost === 2) {
      // the first of the two actions (the split off into a new cluster) changes no label yet
      const s1: SimStep = { action: steps.length + 1, kind: pick.kind, detail: `${pick.detail} (1/2: split off)`, gain: 0, accuracy: acc, ms: 0 };
      steps.push(s1); opts.onAction?.(s1);
      pick = { ...pick, kind: 'name-cluster', detail: `${pick.detail} (2/2: name the new cluster)` };
    }
    eff = await effective();
    acc = accuracyOf(eff);
    const step: SimStep = { action: steps.length + 1, kind: pick.kind, detail: pick.detail, gain: pick.gain, accuracy: acc, ms: performance.now() - ts };
    steps.push(step);
    mark(acc, step.action);
    opts.onAction?.(step);
  }
  return {
    photos: N, labels: trueLabels.size, actionsTo, seconds: (performance.now() - t0) / 1000, steps, initialAccuracy, finalAccuracy: acc,
  };
}
