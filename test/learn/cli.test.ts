import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fixture } from './fixtures.ts';

const repo = path.resolve(import.meta.dirname, '..', '..');
function sift(db: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(repo, 'bin', 'sift.mjs'), '--db', db, ...args], { encoding: 'utf8', cwd: path.dirname(db) });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('sift learn commands', () => {
  it('cluster, clusters --json, label c<id>, labels --json, suggestions --json, reject, undo/redo, with exit codes', { timeout: 240_000 }, () => {
    const f = fixture({ dim: 48, groups: 3, perGroup: 25, spread: 0.8, seed: 13 });
    f.engine.close();
    const db = f.dbPath;
    expect(sift(db, 'cluster').code).toBe(0);
    const list = JSON.parse(sift(db, 'clusters', '--json').out);
    expect(list.clusters).toHaveLength(3);
    expect(Object.keys(list.clusters[0])).toEqual(['id', 'size', 'cohesion', 'unlabeled', 'representatives', 'label', 'suggestedName']);
    const c = list.clusters[0];
    const lab = sift(db, 'label', 'Dog', `c${c.id}`, String(list.clusters[1].representatives[0]));
    expect(lab.code).toBe(0);
    expect(lab.out).toMatch(/label c\d+ \+ 1 photo\(s\) as "Dog"/);
    const labels = JSON.parse(sift(db, 'labels', '--json').out);
    expect(labels).toEqual([{ id: 1, name: 'Dog', confirmed: 1, assigned: c.size, suggested: 0, rejected: 0 }]);
    const sugg = JSON.parse(sift(db, 'suggestions', '--json', '--limit', '5').out);
    expect(sugg.items.length).toBeLessThanOrEqual(5);
    expect(Object.keys(sugg)).toEqual(['items', 'total', 'offset', 'threshold', 'trainedOn']);
    expect(sift(db, 'reject', 'Dog', String(c.representatives[0])).code).toBe(0);
    // usage errors: exit 2 with a clear message
    const bad = sift(db, 'reject', 'Cat', '1');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/Unknown label "Cat"/);
    const badId = sift(db, 'label', 'Dog', 'x12');
    expect(badId.code).toBe(2);
    expect(badId.err).toMatch(/neither a cluster id \(c12\) nor a photo id \(12\)/);
    expect(sift(db, 'label', 'Dog', 'c999').err).toMatch(/Unknown cluster c999/);
    // undo twice (reject, label), redo once: survives separate processes
    expect(sift(db, 'undo').out).toMatch(/undid: 1 photo\(s\) are not "Dog"/);
    expect(sift(db, 'undo').out).toMatch(/undid: label/);
    expect(JSON.parse(sift(db, 'labels', '--json').out)).toEqual([]);
    expect(sift(db, 'redo').out).toMatch(/redid: label/);
    expect(JSON.parse(sift(db, 'labels', '--json').out)[0].assigned).toBe(c.size);
  });
});
