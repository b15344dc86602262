import { describe, it, expect, afterEach } from 'vitest';
import { ApiError } from '../../src/api/engine.ts';
import { Engine } from '../../src/api/engine.ts';
import { fixture, tempDb, type Fixture } from './fixtures.ts';

const open: Engine[] = [];
afterEach(() => { while (open.length) { try { open.pop()!.close(); } catch { /* closed */ } } });
function fx(opts: Parameters<typeof fixture>[0]): Fixture { const f = fixture(opts); open.push(f.engine); return f; }

async function rejects(p: Promise<unknown>, re: RegExp, code: string): Promise<void> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApiError);
  expect((err as ApiError).message).toMatch(re);
  expect((err as ApiError).code).toBe(code);
}

const asc = (a: number, b: number) => a - b;

describe('learn.photos (gallery filters)', () => {
  it('label / unlabeled / confirmed / suggested are exact, paged and ordered', async () => {
    const f = fx({ dim: 64, groups: 3, perGroup: 40, spread: 0.9, seed: 21 });
    const e = f.engine, db = e.ctx.db;
    const group = [0, 1, 2].map((g) => f.ids.filter((_, i) => f.set.truth[i] === g));
    await e.call('learn.label', { name: 'G0', photos: group[0].slice(0, 5) });
    await e.call('learn.label', { name: 'G1', photos: group[1].slice(0, 5) });
    await e.call('learn.label', { name: 'G2', photos: group[2].slice(0, 5) });
    // group 1's cluster named G1: its other photos carry G1 as 'assigned'
    await e.call('learn.cluster', {});
    const c1 = (await e.call('learn.clusters', {})).clusters.find((c) => c.representatives.some((id) => group[1].includes(id)))!;
    await e.call('learn.label', { name: 'G1', clusters: [c1.id] });
    // one photo is gone from disk: not in 'unlabeled'
    const missing = group[2][39];
    db.prepare("UPDATE photos SET status = 'missing' WHERE id = ?").run(missing);

    const all = async (filter: 'label' | 'unlabeled' | 'suggested' | 'confirmed', label?: string | number) => {
      const r = await e.call('learn.photos', { filter, label, limit: 100_000 });
      expect(r.photoIds.length).toBe(r.total);
      return r.photoIds;
    };
    const view = (name: string) => (db.prepare('SELECT photo_id FROM v_photo_labels WHERE label = ?').pluck().all(name) as number[]).sort(asc);
    const g1 = await all('label', 'G1');
    expect(g1).toEqual(view('G1'));
    expect(g1.length).toBeGreaterThan(30); // 5 confirmed + the assigned cluster
    const g1Id = (await e.call('learn.labels', {})).find((l) => l.name === 'G1')!.id;
    expect(await all('label', g1Id)).toEqual(g1);
    expect(await all('label', 'g0')).toEqual(group[0].slice(0, 5).sort(asc));

    // paging: pages concatenate to the whole list, total is the whole count
    const pages: number[] = [];
    for (let offset = 0; offset < g1.length; offset += 7) {
      const p = await e.call('learn.photos', { filter: 'label', label: 'G1', offset, limit: 7 });
      expect(p.total).toBe(g1.length);
      pages.push(...p.photoIds);
    }
    expect(pages).toEqual(g1);

    const labeled = new Set(db.prepare('SELECT photo_id FROM v_photo_labels').pluck().all() as number[]);
    const unlabeled = await all('unlabeled');
    expect(unlabeled).toEqual(f.ids.filter((id) => !labeled.has(id) && id !== missing).sort(asc));
    expect(unlabeled).not.toContain(missing);

    expect(await all('confirmed')).toEqual([0, 1, 2].flatMap((g) => group[g].slice(0, 5)).sort(asc));
    expect(await all('confirmed', 'G1')).toEqual(group[1].slice(0, 5).sort(asc));

    // suggested: unlabeled photos predicted as the label, most confident first; agrees with learn.suggestions
    const rejectedPhoto = (await all('suggested', 'G2'))[0];
    await e.call('learn.reject', { label: 'G2', photos: [rejectedPhoto] });
    const s2 = await all('suggested', 'G2');
    expect(s2).not.toContain(rejectedPhoto);
    expect(s2).not.toContain(missing);
    expect(s2.length).toBeGreaterThan(20);
    const page = await e.call('learn.suggestions', { label: 'G2', limit: 1000 });
    const fromQueue = page.items.filter((s) => s.current === null && s.photoId !== missing);
    expect(s2).toEqual(fromQueue.map((s) => s.photoId));
    for (let i = 1; i < fromQueue.length; i++) expect(fromQueue[i].confidence).toBeLessThanOrEqual(fromQueue[i - 1].confidence);
    for (const id of s2) expect(labeled.has(id)).toBe(false);
    const right = s2.filter((id) => group[2].includes(id)).length;
    expect(right / s2.length).toBeGreaterThan(0.95);
    // no label: every unlabeled photo with a confident prediction, of any label
    const any = await all('suggested');
    const s0 = await all('suggested', 'G0');
    const s1 = await all('suggested', 'G1');
    expect([...any].sort(asc)).toEqual([...s0, ...s1, ...s2].sort(asc));
    expect(any.every((id) => unlabeled.includes(id))).toBe(true);
  });

  it('uses ordered index ranges for label and unlabeled (no sort, no scan of photo_labels)', () => {
    const f = fx({ dim: 16, groups: 1, perGroup: 3, seed: 1 });
    const plan = (sql: string) => (f.engine.ctx.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join(' | ');
    const label = plan("SELECT photo_id FROM photo_labels WHERE label_id = 1 AND state IN ('confirmed','assigned') ORDER BY photo_id LIMIT 10 OFFSET 0");
    expect(label).toMatch(/photo_labels_effective/);
    expect(label).not.toMatch(/TEMP B-TREE/);
    const unl = plan(`SELECT p.id FROM photos p WHERE p.status = 'ok'
        AND NOT EXISTS (SELECT 1 FROM photo_labels pl WHERE pl.photo_id = p.id AND pl.state IN ('confirmed','assigned')) ORDER BY p.id LIMIT 10 OFFSET 0`);
    expect(unl).not.toMatch(/TEMP B-TREE|SCAN pl/);
    const conf = plan("SELECT DISTINCT photo_id FROM photo_labels WHERE state = 'confirmed' ORDER BY photo_id LIMIT 10");
    expect(conf).not.toMatch(/TEMP B-TREE/);
  });

  it('gives clear errors: unknown label, label filter without a label, invalid filter', async () => {
    const f = fx({ dim: 16, groups: 2, perGroup: 5, seed: 2 });
    const e = f.engine;
    await rejects(e.call('learn.photos', { filter: 'label', label: 'Nope' }), /Unknown label "Nope"/, 'not_found');
    await rejects(e.call('learn.photos', { filter: 'suggested', label: 99 }), /Unknown label id 99/, 'not_found');
    await rejects(e.call('learn.photos', { filter: 'label' }), /needs a label/, 'bad_input');
    await rejects(e.call('learn.photos', { filter: 'everything' } as any), /Invalid input/, 'bad_input');
    // nothing labelled yet: no suggestions, every photo unlabeled
    expect(await e.call('learn.photos', { filter: 'suggested' })).toEqual({ total: 0, photoIds: [] });
    expect((await e.call('learn.photos', { filter: 'unlabeled' })).total).toBe(10);
    // an empty library: every filter is empty, none fails
    const empty = new Engine({ dbPath: tempDb().dbPath });
    open.push(empty);
    for (const filter of ['unlabeled', 'suggested', 'confirmed'] as const) expect(await empty.call('learn.photos', { filter })).toEqual({ total: 0, photoIds: [] });
  });
});
