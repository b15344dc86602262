// Library robustness: a disconnected drive is not a move, a file moved onto another photo's path is the moved
// photo, duplicates of a vanished original get a new original, unused thumbnails are collected, and a database
// from before the roots.dev migration still opens. Real engine, SQLite, sharp workers and files.
import { describe, it, expect, onTestFinished } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { makeJpeg } from '../helpers/fixtures.ts';
import { Engine } from '../../src/api/engine.ts';
import { openDb } from '../../src/store/db.ts';
import { migrations } from '../../src/store/migrations.ts';
import { displacedPath } from '../../src/library/indexer.ts';
import { normalizeDuplicates } from '../../src/library/duplicates.ts';
import { engineSetup, tmpDir } from './util.ts';

const setup = engineSetup();
const real = (p: string) => fs.realpathSync(p);
const hourAgo = () => new Date(Date.now() - 3600_000);

describe('a library folder that cannot be reached (disconnected drive)', () => {
  it('keeps its photos as they are: not missing, never moved onto an identical copy; they are back unchanged when it returns', async () => {
    const { engine, dir } = setup();
    const drive = path.join(dir, 'drive', 'Photos');
    const home = path.join(dir, 'home');
    const x = await makeJpeg(path.join(drive, 'x.jpg'), { color: 'red', pattern: 'rings', seed: 1 });
    await makeJpeg(path.join(drive, 'sub', 'y.jpg'), { color: 'blue', pattern: 'checker', seed: 2 });
    await makeJpeg(path.join(home, 'h.jpg'), { color: 'green', seed: 3 });
    await engine.call('library.index', { roots: [drive, home], stages: false });
    const before = await engine.call('library.photos', {});
    const px = before.find((p) => p.path === real(x))!;
    const drivePath = real(drive);
    await engine.call('learn.label', { name: 'holiday', photos: [px.id] });

    // unplug: the folder is gone; an identical copy of x.jpg turns up at home
    const away = path.join(dir, 'unplugged');
    fs.renameSync(path.join(dir, 'drive'), away);
    fs.copyFileSync(path.join(away, 'Photos', 'x.jpg'), path.join(home, 'copy-of-x.jpg'));
    const s = await engine.call('library.index', { stages: false });
    expect(s).toMatchObject({ moved: 0, missing: 0, added: 1, duplicates: 1, offline: 2 });
    expect(s.failed).toEqual([{ path: drivePath, error: expect.stringMatching(/not found \(disconnected drive\?\).*2 photos were left as they are/) }]);
    const mid = await engine.call('library.photo', { id: px.id });
    expect(mid).toMatchObject({ path: px.path, status: 'ok', duplicateOf: null }); // not re-pointed
    const copy = (await engine.call('library.photos', {})).find((p) => p.path.endsWith('copy-of-x.jpg'))!;
    expect(copy.id).not.toBe(px.id);
    expect(copy.duplicateOf).toBe(px.id);
    const st = await engine.call('library.status', {});
    expect(st.offline).toBe(2);
    expect(st.missing).toBe(0);
    expect(st.roots.find((r) => r.path.endsWith('Photos'))!.offline).toMatch(/not found/);
    expect(st.roots.find((r) => r.path.endsWith('home'))!.offline).toBeNull();

    // plug it back in: everything as it was, nothing new, the label still on the same photo
    fs.renameSync(away, path.join(dir, 'drive'));
    const back = await engine.call('library.index', { stages: false });
    expect(back).toMatchObject({ added: 0, moved: 0, missing: 0, unchanged: 4, offline: 0, failed: [] });
    expect(await engine.call('library.photos', {})).toHaveLength(4);
    expect(await engine.call('library.photo', { id: px.id })).toMatchObject({ path: px.path, status: 'ok', duplicateOf: null });
    expect((await engine.call('learn.photoLabels', { photos: [px.id] })).map((l) => l.label)).toEqual(['holiday']);
    expect((await engine.call('library.status', {})).offline).toBe(0);
  });

  it('an empty mount point (empty folder on another device than before) is offline; an emptied folder on the same device is not', async () => {
    const { engine, dir, lib } = setup();
    const other = path.join(dir, 'other');
    const elsewhere = path.join(dir, 'elsewhere');
    const a = await makeJpeg(path.join(lib, 'a.jpg'), { color: 'orange', seed: 4 });
    const ra = real(a);
    await engine.call('library.index', { roots: [lib], stages: false });
    const id = (await engine.call('library.photos', {}))[0].id;
    const dev = engine.ctx.db.prepare('SELECT dev FROM roots').pluck().get();
    expect(dev).toBe(String(fs.statSync(lib).dev)); // recorded at the scan
    // the drive is unmounted: the folder is there but empty, and (as a mount point) on another device
    fs.mkdirSync(other);
    fs.renameSync(a, path.join(other, 'a.jpg'));
    engine.ctx.db.prepare('UPDATE roots SET dev = ?').run('999999');
    fs.mkdirSync(elsewhere);
    fs.copyFileSync(path.join(other, 'a.jpg'), path.join(elsewhere, 'copy.jpg'));
    await engine.call('library.addRoot', { path: elsewhere }); // a folder holding an identical copy
    const s = await engine.call('library.index', { roots: [lib], stages: false });
    expect(s).toMatchObject({ missing: 0, moved: 0, offline: 1 });
    expect(s.failed[0].error).toMatch(/empty and on another device.*drive not mounted/);
    const s2 = await engine.call('library.index', { roots: [elsewhere], stages: false });
    expect(s2).toMatchObject({ moved: 0, added: 1, duplicates: 1 }); // the copy is not taken for the photo of the unmounted drive
    expect(await engine.call('library.photo', { id })).toMatchObject({ path: ra, status: 'ok' });
    // same device, folder emptied by the user: its photo is missing (and the copy may be taken as the move)
    engine.ctx.db.prepare('UPDATE roots SET dev = ? WHERE path = ?').run(String(fs.statSync(lib).dev), real(lib));
    const s3 = await engine.call('library.index', { roots: [lib], stages: false });
    expect(s3).toMatchObject({ missing: 1, offline: 0, failed: [] });
  });

  it('a genuine move between two reachable folders keeps the id and the label', async () => {
    const { engine, dir, lib } = setup();
    const two = path.join(dir, 'two');
    fs.mkdirSync(two);
    const f = await makeJpeg(path.join(lib, 'm.jpg'), { color: 'purple', seed: 5 });
    await engine.call('library.index', { roots: [lib, two], stages: false });
    const id = (await engine.call('library.photos', {}))[0].id;
    await engine.call('learn.label', { name: 'moved', photos: [id] });
    fs.renameSync(f, path.join(two, 'm.jpg'));
    const s = await engine.call('library.index', { stages: false });
    expect(s).toMatchObject({ moved: 1, added: 0, missing: 0, offline: 0, failed: [] });
    expect((await engine.call('library.photo', { id })).path).toBe(path.join(real(two), 'm.jpg'));
    const st = await engine.call('library.status', {});
    expect(st.roots.map((r) => r.photos)).toEqual([0, 1]);
    expect((await engine.call('learn.photoLabels', { photos: [id] })).map((l) => l.label)).toEqual(['moved']);
  });
});

describe('a file moved onto the path of another photo', () => {
  it('is the moved photo (id, label); the photo that was there stays, missing, and can come back', async () => {
    const { engine, lib, dir } = setup();
    const a = await makeJpeg(path.join(lib, 'a.jpg'), { color: 'red', pattern: 'stripes', seed: 6 });
    const b = await makeJpeg(path.join(lib, 'b.jpg'), { color: 'blue', pattern: 'circle', seed: 7 });
    await engine.call('library.index', { roots: [lib], stages: false });
    const rows = await engine.call('library.photos', {});
    const ia = rows.find((p) => p.path === real(a))!;
    const ib = rows.find((p) => p.path === real(b))!;
    await engine.call('learn.label', { name: 'cats', photos: [ia.id] });
    await engine.call('learn.label', { name: 'dogs', photos: [ib.id] });
    const bBytes = fs.readFileSync(b);

    // b.jpg deleted (missing), then a.jpg moved onto its path
    fs.rmSync(b);
    expect((await engine.call('library.index', { stages: false })).missing).toBe(1);
    fs.renameSync(a, b);
    const s = await engine.call('library.index', { stages: false });
    expect(s).toMatchObject({ moved: 1, updated: 0, added: 0, missing: 0, failed: [] }); // b was missing already
    expect(await engine.call('library.photo', { id: ia.id })).toMatchObject({ path: real(b), hash: ia.hash, status: 'ok' });
    expect(await engine.call('library.photo', { id: ib.id })).toMatchObject({ path: displacedPath(real(b), ib.id), hash: ib.hash, status: 'missing' });
    expect(await engine.call('library.photos', {})).toHaveLength(2);
    const labels = await engine.call('learn.photoLabels', { photos: [ia.id, ib.id] });
    expect(labels.map((l) => [l.photoId, l.label]).sort()).toEqual([[ia.id, 'cats'], [ib.id, 'dogs']].sort());
    // a rescan changes nothing
    expect(await engine.call('library.index', { stages: false })).toMatchObject({ unchanged: 1, moved: 0, missing: 0, added: 0 });

    // b's content turns up again elsewhere: it is photo ib (moved), with its label
    fs.writeFileSync(path.join(lib, 'b-from-backup.jpg'), bBytes);
    const s2 = await engine.call('library.index', { stages: false });
    expect(s2).toMatchObject({ moved: 1, added: 0 });
    expect(await engine.call('library.photo', { id: ib.id })).toMatchObject({ path: path.join(real(lib), 'b-from-backup.jpg'), status: 'ok' });
    expect(fs.existsSync(dir)).toBe(true);
  });

  it('overwriting in one step (mv c.jpg d.jpg) keeps c\'s id; d\'s photo becomes missing', async () => {
    const { engine, lib } = setup();
    const c = await makeJpeg(path.join(lib, 'c.jpg'), { color: 'yellow', pattern: 'diagonal', seed: 8 });
    const d = await makeJpeg(path.join(lib, 'd.jpg'), { color: 'cyan', pattern: 'gradient', seed: 9 });
    await engine.call('library.index', { roots: [lib], stages: false });
    const rows = await engine.call('library.photos', {});
    const ic = rows.find((p) => p.path === real(c))!;
    const id = rows.find((p) => p.path === real(d))!;
    fs.renameSync(c, d);
    const s = await engine.call('library.index', { stages: false });
    expect(s).toMatchObject({ moved: 1, updated: 0, missing: 1, added: 0 });
    expect(await engine.call('library.photo', { id: ic.id })).toMatchObject({ path: real(d), hash: ic.hash, status: 'ok' });
    expect(await engine.call('library.photo', { id: id.id })).toMatchObject({ status: 'missing', hash: id.hash });
  });

  it('a file edited in place (new content, no vanished photo with that content) keeps its own id', async () => {
    const { engine, lib } = setup();
    const e = await makeJpeg(path.join(lib, 'e.jpg'), { color: 'white', seed: 10 });
    const other = await makeJpeg(path.join(lib, 'other.jpg'), { color: 'black', seed: 11 });
    await engine.call('library.index', { roots: [lib], stages: false });
    const rows = await engine.call('library.photos', {});
    const ie = rows.find((p) => p.path === real(e))!;
    const io = rows.find((p) => p.path === real(other))!;
    // e.jpg becomes a copy of other.jpg, which is still there: an update (and a duplicate), not a move
    fs.copyFileSync(other, e);
    const s = await engine.call('library.index', { stages: false });
    expect(s).toMatchObject({ moved: 0, updated: 1, missing: 0 });
    expect(await engine.call('library.photo', { id: ie.id })).toMatchObject({ path: real(e), hash: io.hash, duplicateOf: io.id });
  });
});

describe('duplicates of an original that goes away', () => {
  it('missing original: a duplicate is promoted and the others point at it; the original coming back is a duplicate', async () => {
    const { engine, lib, dir } = setup();
    const o = await makeJpeg(path.join(lib, 'o.jpg'), { color: 'pink', pattern: 'noise', seed: 12 });
    await engine.call('library.index', { roots: [lib], stages: false });
    fs.copyFileSync(o, path.join(lib, 'd1.jpg'));
    fs.copyFileSync(o, path.join(lib, 'd2.jpg'));
    await engine.call('library.index', { stages: false });
    const byName = async () => Object.fromEntries((await engine.call('library.photos', {})).map((p) => [path.basename(p.path), p]));
    let ph = await byName();
    expect([ph['d1.jpg'].duplicateOf, ph['d2.jpg'].duplicateOf]).toEqual([ph['o.jpg'].id, ph['o.jpg'].id]);
    // the lowest-id duplicate is promoted (crawl order decides which copy got which id)
    const [promoted, other] = ph['d1.jpg'].id < ph['d2.jpg'].id ? ['d1.jpg', 'd2.jpg'] : ['d2.jpg', 'd1.jpg'];
    const ip = ph[promoted].id;

    fs.renameSync(o, path.join(dir, 'o-away.jpg'));
    expect((await engine.call('library.index', { stages: false })).missing).toBe(1);
    ph = await byName();
    expect(ph['o.jpg']).toMatchObject({ status: 'missing', duplicateOf: ip });
    expect(ph[promoted]).toMatchObject({ status: 'ok', duplicateOf: null });
    expect(ph[other]).toMatchObject({ status: 'ok', duplicateOf: ip });
    expect((await engine.call('library.status', {})).duplicates).toBe(1);

    // back unchanged (not decoded): it is now a duplicate of the promoted one
    fs.renameSync(path.join(dir, 'o-away.jpg'), o);
    expect(await engine.call('library.index', { stages: false })).toMatchObject({ unchanged: 3, missing: 0 });
    ph = await byName();
    expect([ph['o.jpg'].duplicateOf, ph[promoted].duplicateOf, ph[other].duplicateOf]).toEqual([ip, null, ip]);
  });

  it('an original changed in place, or whose folder is removed, leaves its duplicates a new original', async () => {
    const { engine, lib, dir } = setup();
    const two = path.join(dir, 'two');
    const o = await makeJpeg(path.join(lib, 'o.jpg'), { color: 'cyan', pattern: 'rings', seed: 13 });
    const p = await makeJpeg(path.join(lib, 'p.jpg'), { color: 'brown', pattern: 'checker', seed: 14 });
    await engine.call('library.index', { roots: [lib], stages: false });
    fs.mkdirSync(two);
    for (const n of ['o1', 'o2']) fs.copyFileSync(o, path.join(two, `${n}.jpg`));
    for (const n of ['p1', 'p2']) fs.copyFileSync(p, path.join(two, `${n}.jpg`));
    await engine.call('library.index', { roots: [two], stages: false });
    const byName = async () => Object.fromEntries((await engine.call('library.photos', {})).map((x) => [path.basename(x.path), x]));
    let ph = await byName();
    expect(ph['o2.jpg'].duplicateOf).toBe(ph['o.jpg'].id);
    // o.jpg edited: its copies are no longer copies of it
    await makeJpeg(o, { color: 'red', pattern: 'stripes', seed: 15 });
    expect(await engine.call('library.index', { roots: [lib], stages: false })).toMatchObject({ updated: 1 });
    ph = await byName();
    expect(ph['o.jpg'].duplicateOf).toBeNull();
    const [o1, o2] = [ph['o1.jpg'], ph['o2.jpg']].sort((x, y) => x.id - y.id);
    expect([o1.duplicateOf, o2.duplicateOf]).toEqual([null, o1.id]);
    // the folder holding p.jpg is removed from the library: p1 becomes the original, p2 points at it
    expect(ph['p2.jpg'].duplicateOf).toBe(ph['p.jpg'].id);
    await engine.call('library.removeRoot', { path: lib });
    ph = await byName();
    expect(Object.keys(ph).sort()).toEqual(['o1.jpg', 'o2.jpg', 'p1.jpg', 'p2.jpg']);
    const [p1, p2] = [ph['p1.jpg'], ph['p2.jpg']].sort((x, y) => x.id - y.id);
    expect([p1.duplicateOf, p2.duplicateOf]).toEqual([null, p1.id]);
    expect((await engine.call('library.status', {})).duplicates).toBe(2);
  });

  it('normalizeDuplicates leaves a consistent group alone and fixes a stale one', () => {
    const { engine } = setup();
    const db = engine.ctx.db;
    const ins = db.prepare("INSERT INTO photos (path, size, mtime_ms, hash, status, duplicate_of, added_at, updated_at) VALUES (?, 1, 1, 'h', ?, ?, 0, 0)");
    const a = Number(ins.run('/x/a.jpg', 'ok', null).lastInsertRowid);
    const b = Number(ins.run('/x/b.jpg', 'ok', a).lastInsertRowid);
    expect(normalizeDuplicates(db, ['h'])).toBe(0);
    db.prepare("UPDATE photos SET status = 'missing' WHERE id = ?").run(a);
    const c = Number(ins.run('/x/c.jpg', 'ok', a).lastInsertRowid);
    expect(normalizeDuplicates(db, ['h', 'h', null])).toBe(3);
    const dupOf = db.prepare('SELECT id, duplicate_of AS d FROM photos ORDER BY id').all();
    expect(dupOf).toEqual([{ id: a, d: b }, { id: b, d: null }, { id: c, d: b }]);
  });
});

describe('thumbnail garbage collection', () => {
  it('a rescan removes old thumbnails no photo uses (removed folder, changed file); one that decodes also sweeps temp files and orphans', async () => {
    const { engine, lib, dir } = setup();
    const two = path.join(dir, 'two');
    await makeJpeg(path.join(lib, 'a.jpg'), { color: 'red', seed: 16 });
    const b = await makeJpeg(path.join(two, 'b.jpg'), { color: 'blue', seed: 17 });
    await engine.call('library.index', { roots: [lib, two], stages: false });
    const thumbOf = async (name: string) => (await engine.call('library.photos', {})).find((p) => p.path.endsWith(name))!.thumbnail!;
    const ta = await thumbOf('a.jpg');
    const tbOld = await thumbOf('b.jpg');
    await engine.call('library.removeRoot', { path: lib });
    await makeJpeg(b, { color: 'green', pattern: 'circle', seed: 18 }); // b.jpg changed: its old thumbnail is unused
    const strayTmp = path.join(path.dirname(ta), 'x.123.1.tmp');
    const strayOther = path.join(path.dirname(ta), 'notes.txt');
    fs.writeFileSync(strayTmp, 'partial');
    fs.writeFileSync(strayOther, 'not ours');
    // young files are kept (a scan writes a thumbnail before the row that names it)
    await engine.call('library.index', { stages: false });
    const tbNew = await thumbOf('b.jpg');
    expect(tbNew).not.toBe(tbOld);
    expect([ta, tbOld, tbNew, strayTmp].map((f) => fs.existsSync(f))).toEqual([true, true, true, true]);
    // once they are old, the unused ones go: an unchanged rescan looks only at the candidates the triggers
    // recorded (the deleted photo's and the changed file's old thumbnail), not at the whole cache
    const orphan = path.join(path.dirname(ta), `${path.basename(ta).slice(0, 2)}${'0'.repeat(30)}.jpg`); // a killed scan's
    fs.copyFileSync(ta, orphan);
    for (const f of [ta, tbOld, tbNew, strayTmp, strayOther, orphan]) fs.utimesSync(f, hourAgo(), hourAgo());
    expect(engine.ctx.db.prepare('SELECT COUNT(*) FROM thumb_gc').pluck().get()).toBe(2);
    expect(await engine.call('library.index', { stages: false })).toMatchObject({ unchanged: 1, added: 0 });
    expect([ta, tbOld, tbNew, strayTmp, strayOther, orphan].map((f) => fs.existsSync(f))).toEqual([false, false, true, true, true, true]);
    expect(engine.ctx.db.prepare('SELECT COUNT(*) FROM thumb_gc').pluck().get()).toBe(0);
    // a scan that decodes something also sweeps the cache: old temp files and orphans; never other files
    await makeJpeg(path.join(two, 'c.jpg'), { color: 'brown', seed: 23 });
    expect(await engine.call('library.index', { stages: false })).toMatchObject({ added: 1 });
    expect([tbNew, strayTmp, strayOther, orphan, await thumbOf('c.jpg')].map((f) => fs.existsSync(f))).toEqual([true, false, true, false, true]);
  });

  it('a thumbnail the worker reuses is touched, so it is not collected under a new row', async () => {
    const { engine, lib, dir } = setup();
    const a = await makeJpeg(path.join(lib, 'a.jpg'), { color: 'yellow', seed: 19 });
    await engine.call('library.index', { roots: [lib], stages: false });
    const t = (await engine.call('library.photos', {}))[0].thumbnail!;
    fs.utimesSync(t, hourAgo(), hourAgo());
    const more = path.join(dir, 'more');
    fs.mkdirSync(more);
    fs.copyFileSync(a, path.join(more, 'x.jpg'));
    await engine.call('library.index', { roots: [more], stages: false }); // a duplicate: same thumbnail, reused
    expect(Date.now() - fs.statSync(t).mtimeMs).toBeLessThan(60_000);
  });

  it('keeps unused thumbnails while another SQLite database sits beside this one (never registered: it may share the cache)', async () => {
    const { engine, lib, dir } = setup();
    await makeJpeg(path.join(lib, 'a.jpg'), { color: 'blue', seed: 23 });
    await engine.call('library.index', { roots: [lib], stages: false });
    const t = (await engine.call('library.photos', {}))[0].thumbnail!;
    // a database of an older Sift beside ours: it never indexed into the cache since .databases exists
    const older = new Database(path.join(dir, 'db', 'older.db'));
    older.exec('CREATE TABLE photos (id INTEGER PRIMARY KEY)');
    older.close();
    const other = tmpDir();
    await makeJpeg(path.join(other, 'z.jpg'), { color: 'green', seed: 24 });
    await engine.call('library.removeRoot', { path: lib });
    fs.utimesSync(t, hourAgo(), hourAgo());
    await engine.call('library.addRoot', { path: other });
    await engine.call('library.index', { stages: false });
    expect(fs.existsSync(t)).toBe(true);
    // without it, the same thumbnail goes at the next complete scan
    fs.rmSync(path.join(dir, 'db', 'older.db'));
    await makeJpeg(path.join(other, 'y.jpg'), { color: 'red', seed: 25 });
    await engine.call('library.index', { stages: false });
    expect(fs.existsSync(t)).toBe(false);
    fs.rmSync(other, { recursive: true, force: true });
  });

  it('keeps unused thumbnails while another database shares the cache', async () => {
    const { engine, lib, dir } = setup();
    await makeJpeg(path.join(lib, 'a.jpg'), { color: 'blue', seed: 20 });
    await engine.call('library.index', { roots: [lib], stages: false });
    const t = (await engine.call('library.photos', {}))[0].thumbnail!;
    const second = new Engine({ dbPath: path.join(dir, 'db', 'second.db') });
    onTestFinished(() => second.close());
    second.ctx.stages.length = 0;
    expect(second.ctx.thumbsDir).toBe(engine.ctx.thumbsDir);
    const other = tmpDir();
    await makeJpeg(path.join(other, 'z.jpg'), { color: 'green', seed: 21 });
    await second.call('library.index', { roots: [other], stages: false });
    await engine.call('library.removeRoot', { path: lib });
    fs.utimesSync(t, hourAgo(), hourAgo());
    await engine.call('library.addRoot', { path: other });
    await engine.call('library.index', { stages: false });
    expect(fs.existsSync(t)).toBe(true); // second.db might use it: not removed
    fs.rmSync(other, { recursive: true, force: true });
  });
});

describe('schema migrations 005 (roots.dev) and 006 (thumb_gc)', () => {
  it('a database written before it opens, keeps its rows and indexes on', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'old.db');
    const lib = path.join(dir, 'photos');
    const f = await makeJpeg(path.join(lib, 'a.jpg'), { color: 'red', seed: 22 });
    // the schema as the previous code made it: migrations up to 004
    const old = new Database(file);
    const v = migrations.findIndex((m) => m.name.startsWith('005'));
    expect(v).toBe(4);
    for (const m of migrations.slice(0, v)) m.up(old);
    old.pragma(`user_version = ${v}`);
    old.prepare('INSERT INTO roots (path, added_at) VALUES (?, 0)').run(real(lib));
    old.prepare("INSERT INTO photos (root_id, path, size, mtime_ms, status, added_at, updated_at) VALUES (1, ?, 1, 1, 'pending', 0, 0)").run(real(f));
    expect(() => old.prepare('SELECT dev FROM roots').get()).toThrow(/no such column/);
    old.close();
    const db = openDb(file);
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect(db.prepare('SELECT path, dev FROM roots').get()).toEqual({ path: real(lib), dev: null });
    expect(db.prepare('SELECT COUNT(*) FROM thumb_gc').pluck().get()).toBe(0); // 006 as well
    db.close();
    const engine = new Engine({ dbPath: file });
    onTestFinished(() => engine.close());
    engine.ctx.stages.length = 0;
    const s = await engine.call('library.index', { stages: false });
    expect(s).toMatchObject({ found: 1, added: 1, failed: [] }); // the pending row, now indexed
    expect((await engine.call('library.photos', {}))[0]).toMatchObject({ id: 1, status: 'ok' });
    expect(engine.ctx.db.prepare('SELECT dev FROM roots').pluck().get()).toBe(String(fs.statSync(lib).dev));
  });
});
