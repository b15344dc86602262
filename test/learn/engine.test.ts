import { describe, it, expect, afterEach } from 'vitest';
import { Engine, ApiError } from '../../src/api/engine.ts';
import { fixture, seed, tempDb, type Fixture } from './fixtures.ts';
import { plantedGroups } from '../../src/learn/synthetic.ts';
import { simulateUser } from '../../src/learn/simulate.ts';
import { parseTargets } from '../../cli/commands/learn.ts';

const open: Engine[] = [];
afterEach(() => { while (open.length) { try { open.pop()!.close(); } catch { /* closed */ } } });
function fx(opts: Parameters<typeof fixture>[0]): Fixture { const f = fixture(opts); open.push(f.engine); return f; }

/** everything a user could see of the labels: per photo label+state, label list, rejections */
function state(e: Engine) {
  const db = e.ctx.db;
  return {
    rows: db.prepare('SELECT photo_id, label_id, state FROM photo_labels ORDER BY photo_id, label_id').all(),
    labels: db.prepare('SELECT id, name FROM labels ORDER BY id').all(),
    names: db.prepare('SELECT cluster_id, label_id FROM cluster_names ORDER BY cluster_id').all(),
    members: db.prepare('SELECT photo_id, cluster_id FROM cluster_members ORDER BY photo_id').all(),
  };
}

async function rejects(p: Promise<unknown>, re: RegExp, code?: string): Promise<void> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApiError);
  expect((err as ApiError).message).toMatch(re);
  if (code) expect((err as ApiError).code).toBe(code);
}

describe('learn engine API', () => {
  it('clusters planted groups into named-able clusters; ids are stable across re-runs', async () => {
    const f = fx({ dim: 96, groups: 5, perGroup: 40, spread: 1.0, seed: 11 });
    const e = f.engine;
    const events: string[] = [];
    e.onEvent((ev) => events.push(ev.type));
    const s1 = await e.call('learn.cluster', {});
    expect(s1.clusters).toBe(5);
    expect(events).toContain('clusters.changed');
    const l1 = await e.call('learn.clusters', {});
    const byId = async (list: typeof l1) => new Map(await Promise.all(list.clusters.map(async (c) => [c.id, (await e.call('learn.clusterPhotos', { id: c.id, limit: 1000 })).photoIds.sort((a, b) => a - b).join(',')] as const)));
    const m1 = await byId(l1);
    // each cluster is one planted group
    const truthOf = new Map(f.ids.map((id, i) => [id, f.set.truth[i]]));
    for (const members of m1.values()) expect(new Set(members.split(',').map((id) => truthOf.get(Number(id)))).size).toBe(1);
    // same data: same ids, same members
    const s2 = await e.call('learn.cluster', {});
    expect(s2.kept).toBe(5);
    expect(await byId(await e.call('learn.clusters', {}))).toEqual(m1);
    // name one cluster, re-cluster the rest: the other ids survive
    const named = l1.clusters[0].id;
    await e.call('learn.label', { name: 'Dog', clusters: [named] });
    await e.call('learn.cluster', {});
    const l3 = await e.call('learn.clusters', {});
    const m3 = await byId(l3);
    for (const [id, members] of m1) {
      if (id === named) continue;
      // the same cluster keeps its id (border photos may move when the photos around them change)
      const a = new Set(members.split(',')), b = new Set((m3.get(id) ?? '').split(','));
      expect([...a].filter((x) => b.has(x)).length).toBeGreaterThanOrEqual(0.9 * a.size);
    }
    expect(l3.clusters.find((c) => c.id === named)?.label?.name).toBe('Dog');
    expect(l3.clusters.at(-1)?.id).toBe(named); // named clusters are listed after the unnamed ones
  });

  it('labels: create, rename, merge, delete, confirm, reject; undo/redo round-trips every step, also after a restart', async () => {
    const { dbPath } = tempDb();
    let e = new Engine({ dbPath });
    open.push(e);
    const set = plantedGroups({ dim: 64, groups: 3, perGroup: 30, spread: 0.8, seed: 5 });
    const ids = seed(e, set);
    await e.call('learn.cluster', {});
    const cl = (await e.call('learn.clusters', {})).clusters;
    const states = [state(e)];
    const ops: (() => Promise<unknown>)[] = [
      () => e.call('learn.label', { name: 'Dog', clusters: [cl[0].id] }),
      () => e.call('learn.label', { name: 'Cat', clusters: [cl[1].id], photos: [ids[0]] }),
      () => e.call('learn.createLabel', { name: 'Bird' }),
      () => e.call('learn.renameLabel', { label: 'Bird', name: 'Birds' }),
      () => e.call('learn.reject', { label: 'Dog', photos: [ids[1], ids[2]] }),
      () => e.call('learn.confirm', { label: 'Birds', photos: [ids[3], ids[4]] }),
      () => e.call('learn.mergeLabels', { from: 'Birds', into: 'Cat' }),
      () => e.call('learn.split', { photos: [ids[5], ids[6]], name: 'Fish' }),
      () => e.call('learn.mergeClusters', { from: cl[2].id, into: cl[0].id }),
      () => e.call('learn.deleteLabel', { label: 'Fish' }),
    ];
    for (const op of ops) { await op(); states.push(state(e)); }
    const final = states.at(-1)!;
    expect(final.labels.map((l: any) => l.name)).toEqual(['Dog', 'Cat']);
    // undo half, restart, undo the rest, checking every intermediate state
    for (let k = ops.length; k > 5; k--) { expect((await e.call('learn.undo', {})).entry).not.toBeNull(); expect(state(e)).toEqual(states[k - 1]); }
    e.close();
    e = new Engine({ dbPath });
    open.push(e);
    expect(state(e)).toEqual(states[5]);
    for (let k = 5; k > 0; k--) { await e.call('learn.undo', {}); expect(state(e)).toEqual(states[k - 1]); }
    expect((await e.call('learn.undo', {})).entry).toBeNull();
    for (let k = 1; k <= ops.length; k++) { await e.call('learn.redo', {}); expect(state(e)).toEqual(states[k]); }
    expect((await e.call('learn.redo', {})).entry).toBeNull();
    // a new change clears the redo stack
    await e.call('learn.undo', {});
    await e.call('learn.confirm', { label: 'Dog', photos: [ids[7]] });
    expect((await e.call('learn.redo', {})).entry).toBeNull();
    // the view the export reads: one effective label per photo, never a rejected one
    const view = e.ctx.db.prepare('SELECT photo_id, count(*) AS n FROM v_photo_labels GROUP BY photo_id HAVING n > 1').all();
    expect(view).toEqual([]);
    const labelsOut = await e.call('learn.labels', {});
    expect(labelsOut.find((l) => l.name === 'Dog')!.rejected).toBe(2);
  });

  it('a rejected label is never suggested again for that photo, and naming its cluster again does not bring it back', async () => {
    const f = fx({ dim: 64, groups: 3, perGroup: 40, spread: 0.9, seed: 8 });
    const e = f.engine;
    await e.call('learn.cluster', {});
    const cl = (await e.call('learn.clusters', {})).clusters;
    await e.call('learn.label', { name: 'A', clusters: [cl[0].id] });
    await e.call('learn.label', { name: 'B', clusters: [cl[1].id] });
    const members = (await e.call('learn.clusterPhotos', { id: cl[0].id, limit: 1000 })).photoIds;
    const rejected = members.slice(0, 5);
    await e.call('learn.reject', { label: 'A', photos: rejected });
    const check = async () => {
      const all = await e.call('learn.suggestions', { limit: 1000 });
      for (const it of all.items) if (rejected.includes(it.photoId)) expect(it.label).not.toBe('A');
      const onlyA = await e.call('learn.suggestions', { label: 'A', limit: 1000 });
      for (const it of onlyA.items) expect(rejected).not.toContain(it.photoId);
      const carried = await e.call('learn.photoLabels', { photos: rejected });
      for (const c of carried) expect(c.label).not.toBe('A');
    };
    await check();
    expect((await e.call('learn.suggestions', { limit: 1000 })).trainedOn.rejected).toBe(5);
    await e.call('learn.label', { name: 'A', clusters: [cl[0].id] });
    await e.call('learn.confirm', { label: 'A', photos: members.slice(10, 20) });
    await check();
  });

  it('suggests the right label for unlabeled photos once a few are known, and ranks disagreements first in the review queue', async () => {
    const f = fx({ dim: 64, groups: 3, perGroup: 40, spread: 0.9, seed: 21 });
    const e = f.engine;
    const byGroup = [0, 1, 2].map((g) => f.ids.filter((_, i) => f.set.truth[i] === g));
    await e.call('learn.label', { name: 'G0', photos: byGroup[0].slice(0, 5) });
    await e.call('learn.label', { name: 'G1', photos: byGroup[1].slice(0, 5) });
    await e.call('learn.label', { name: 'G2', photos: byGroup[2].slice(0, 5) });
    const page = await e.call('learn.suggestions', { limit: 1000 });
    let right = 0, known = 0;
    for (const it of page.items) {
      if (!it.label) continue;
      known++;
      const g = f.set.truth[f.ids.indexOf(it.photoId)];
      if (it.label === `G${g}`) right++;
    }
    expect(known).toBeGreaterThan(80);
    expect(right / known).toBeGreaterThan(0.95);
    // a wrong cluster assignment shows up at the top as a disagreement
    await e.call('learn.cluster', {});
    const wrongPhoto = byGroup[0][20];
    const other = (await e.call('learn.clusters', {})).clusters.find((c) => c.representatives.some((id) => byGroup[1].includes(id)))!;
    await e.call('learn.split', { photos: [wrongPhoto] }); // into its own cluster, then name it wrongly
    const own = (await e.call('learn.clusters', {})).clusters.find((c) => c.size === 1)!;
    await e.call('learn.mergeClusters', { from: own.id, into: other.id });
    await e.call('learn.label', { name: 'G1', clusters: [other.id] });
    const q = await e.call("learn.suggestions", { limit: 3 });
    expect(q.items[0].photoId).toBe(wrongPhoto);
    expect(q.items[0].reason).toBe('disagrees');
    expect(q.items[0].label).toBe('G0');
    expect(q.items[0].current?.label).toBe('G1');
  });

  it('sees new embeddings after an embeddings.changed event (cached features are re-checked)', async () => {
    const f = fx({ dim: 32, groups: 2, perGroup: 20, spread: 0.7, seed: 3 });
    const e = f.engine;
    expect((await e.call('learn.cluster', {})).photos).toBe(40);
    seed(e, plantedGroups({ dim: 32, groups: 2, perGroup: 5, spread: 0.7, seed: 4 }));
    e.ctx.emit({ type: 'embeddings.changed' });
    expect((await e.call('learn.cluster', {})).photos).toBe(50);
  });

  it('gives clear errors for bad input: unknown label, photo or cluster, empty library, a library of one photo', async () => {
    const { dbPath } = tempDb();
    const e = new Engine({ dbPath });
    open.push(e);
    await rejects(e.call('learn.cluster', {}), /No photo has an embedding/);
    await rejects(e.call('learn.suggestions', {}), /No photo has an embedding/);
    expect(await e.call('learn.labels', {})).toEqual([]);
    expect((await e.call('learn.clusters', {})).clusters).toEqual([]);
    expect((await e.call('learn.undo', {})).entry).toBeNull();
    seed(e, plantedGroups({ dim: 16, groups: 1, perGroup: 1, seed: 1 }));
    await rejects(e.call('learn.cluster', {}), /at least 2 unlabeled photos/, 'conflict');
    await rejects(e.call('learn.confirm', { label: 'Nope', photos: [1] }), /Unknown label "Nope"/, 'not_found');
    await e.call('learn.createLabel', { name: 'Dog' });
    await rejects(e.call('learn.createLabel', { name: 'dog' }), /exists already/, 'conflict');
    await rejects(e.call('learn.reject', { label: 'Dog', photos: [424242] }), /Unknown photo id: 424242/, 'not_found');
    await rejects(e.call('learn.label', { name: 'Dog', clusters: [77] }), /Unknown cluster c77/, 'not_found');
    await rejects(e.call('learn.mergeLabels', { from: 'Dog', into: 'dog' }), /itself/);
    await rejects(e.call('learn.confirm', { label: 'Dog', photos: [] } as any), /Invalid input/);
    await rejects(e.call('learn.suggestions', { label: 'Dog', limit: 0 }), /Invalid input/);
    // the single photo can still be labelled and gets no made-up suggestion
    await e.call('learn.confirm', { label: 'Dog', photos: [1] });
    const s = await e.call('learn.suggestions', {});
    expect(s.total).toBe(0);
    expect(s.trainedOn.confirmed).toBe(1);
  });

  it('the simulated user sorts a small synthetic library to 98 % in few actions', async () => {
    const f = fx({ dim: 64, sizes: [60, 60, 40, 40, 30], spread: 1.2, seed: 4 });
    const truth = new Map(f.ids.map((id, i) => [id, `g${f.set.truth[i]}`]));
    const r = await simulateUser(f.engine, truth, { maxActions: 60 });
    expect(r.photos).toBe(230);
    expect(r.labels).toBe(5);
    expect(r.actionsTo['98']).not.toBeNull();
    expect(r.actionsTo['98']!).toBeLessThanOrEqual(15);
    const order = [r.actionsTo['90'], r.actionsTo['95'], r.actionsTo['98']].map((x) => x ?? Infinity);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(r.steps.every((s) => s.accuracy >= 0 && s.accuracy <= 1)).toBe(true);
  });
});

describe('CLI ids', () => {
  it('tells clusters (c12) from photos (12) and refuses anything else', () => {
    expect(parseTargets(['c12', '7', 'C3', '40'])).toEqual({ clusters: [12, 3], photos: [7, 40] });
    expect(() => parseTargets(['dog'])).toThrow(/neither a cluster id/);
    expect(() => parseTargets(['c'])).toThrow(/neither a cluster id/);
  });
});
