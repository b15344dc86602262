// Shared fixtures for the export tests: a real library (sharp JPEGs with EXIF, rows in a real SQLite store),
// labels, snapshots of trees and the "nothing lost" invariant.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { xxh3 } from '@node-rs/xxhash';
import { openDb, type DB } from '../../src/store/db.ts';
import { makeJpeg } from '../helpers/fixtures.ts';
import type { ExportFs } from '../../src/export/fsops.ts';
import { nodeFs } from '../../src/export/fsops.ts';

export const hash = (buf: Uint8Array) => xxh3.xxh128(buf).toString(16).padStart(32, '0');

export function tmp(prefix = 'sift-export-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface LibPhoto { id: number; path: string; hash: string; labels: string[] }

export interface PhotoSpec { rel: string; labels?: string[]; takenAt?: string; make?: string; model?: string; big?: boolean; seed?: number }

/** Writes the photos with sharp, inserts them in photos (hash = xxh3-128 like the indexer) and their labels. */
export async function makeLib(db: DB, root: string, specs: PhotoSpec[]): Promise<LibPhoto[]> {
  const out: LibPhoto[] = [];
  const now = Date.now();
  const insRoot = db.prepare(`INSERT OR IGNORE INTO roots (path, added_at) VALUES (?, ?)`);
  insRoot.run(root, now);
  const rootId = (db.prepare(`SELECT id FROM roots WHERE path = ?`).get(root) as { id: number }).id;
  const ins = db.prepare(`INSERT INTO photos (root_id, path, size, mtime_ms, hash, format, taken_at, camera_make, camera_model, status, added_at, updated_at)
    VALUES (?, ?, ?, ?, ?, 'jpeg', ?, ?, ?, 'ok', ?, ?)`);
  let seed = 1;
  for (const s of specs) {
    const file = path.join(root, s.rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await makeJpeg(file, {
      seed: s.seed ?? seed++, pattern: 'noise', noise: s.big ? 120 : 40, width: s.big ? 400 : 64, height: s.big ? 300 : 48, quality: s.big ? 98 : 80,
      takenAt: s.takenAt ?? '2021-07-04T12:34:56', make: s.make ?? 'Canon', model: s.model ?? 'Canon EOS 5D',
    });
    const buf = fs.readFileSync(file);
    const st = fs.statSync(file);
    const h = hash(buf);
    const id = Number(ins.run(rootId, file, st.size, Math.floor(st.mtimeMs), h, s.takenAt ?? '2021-07-04T12:34:56', s.make ?? 'Canon', s.model ?? 'Canon EOS 5D', now, now).lastInsertRowid);
    for (const l of s.labels ?? []) setLabel(db, id, l);
    out.push({ id, path: file, hash: h, labels: s.labels ?? [] });
  }
  return out;
}

export function setLabel(db: DB, photoId: number, label: string): void {
  db.prepare(`INSERT OR IGNORE INTO labels (name, created_at) VALUES (?, ?)`).run(label, Date.now());
  const lid = (db.prepare(`SELECT id FROM labels WHERE name = ?`).get(label) as { id: number }).id;
  db.prepare(`INSERT OR REPLACE INTO photo_labels (photo_id, label_id, state, updated_at) VALUES (?, ?, 'confirmed', ?)`).run(photoId, lid, Date.now());
}

export function newDb(dir: string): DB {
  return openDb(path.join(dir, 'sift.db'));
}

export const MARKER = '.sift-export';
/** What snapshot() records for an export marker: its presence, not its content (which names the export id). */
export const MARKED = '(sift export marker)';

/** path -> content hash (symlinks: '->target') of every file under the roots (an export marker: MARKED). */
export function snapshot(...roots: string[]): Map<string, string> {
  const m = new Map<string, string>();
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === MARKER && e.isFile()) m.set(p, MARKED);
      else if (e.isSymbolicLink()) m.set(p, '->' + fs.readlinkSync(p));
      else if (e.isFile()) m.set(p, hash(fs.readFileSync(p)));
    }
  };
  for (const r of roots) walk(r);
  return m;
}

/** The files under root, relative, sorted; without the export marker at the root (see hasMarker). */
export function listFiles(root: string): string[] {
  return [...snapshot(root).keys()].map((p) => path.relative(root, p)).filter((p) => p !== MARKER).sort();
}

/** The destination's export marker, parsed (null when there is none). */
export function marker(dest: string): { sift: string; exportId: number; createdAt: string; undo: string } | null {
  try { return JSON.parse(fs.readFileSync(path.join(dest, MARKER), 'utf8')); } catch { return null; }
}

/**
 * The invariant after every scenario: each source photo (and every other file that existed before) exists,
 * byte-identical, at its source or (for moves) somewhere under the destination; nothing else was changed.
 * `before` = snapshot of source root + destination before the export.
 */
export function assertNothingLost(before: Map<string, string>, srcRoot: string, dest: string, opts: { allowMoved: boolean }): void {
  const now = snapshot(srcRoot, dest);
  const atDest = new Map<string, number>();
  for (const [p, h] of now) if (p.startsWith(dest + path.sep) && !h.startsWith('->')) atDest.set(h, (atDest.get(h) ?? 0) + 1);
  const problems: string[] = [];
  for (const [p, h] of before) {
    const cur = now.get(p);
    if (cur === h) continue;
    if (cur !== undefined) { problems.push(`changed: ${p}`); continue; }
    if (opts.allowMoved && p.startsWith(srcRoot + path.sep) && atDest.has(h)) continue;
    problems.push(`lost: ${p}`);
  }
  if (problems.length) throw new Error(`nothing-lost invariant violated:\n${problems.join('\n')}`);
}

/** An ExportFs that fails chosen operations with an errno code (the fault-injection seam). */
export function faultyFs(fail: (op: keyof ExportFs, args: string[]) => string | null, base: ExportFs = nodeFs): ExportFs {
  const wrapped: Partial<ExportFs> = {};
  for (const k of Object.keys(base) as (keyof ExportFs)[]) {
    (wrapped as any)[k] = async (...args: any[]) => {
      const code = fail(k, args.filter((a) => typeof a === 'string'));
      if (code) throw Object.assign(new Error(`${code}: injected fault, ${k} '${args[args.length > 1 ? 1 : 0]}'`), { code });
      return (base as any)[k](...args);
    };
  }
  return wrapped as ExportFs;
}

/** Mounts a small tmpfs (root only). Returns null when mounting is not possible here. */
export function mountTmpfs(dir: string, size: string, extra = ''): (() => void) | null {
  fs.mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}${extra ? ',' + extra : ''}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch { return null; }
  return () => { try { execFileSync('umount', ['-l', dir], { stdio: 'pipe' }); } catch { /* already gone */ } };
}

/**
 * A small btrfs file system (copy-on-write, clones) on a loop device at `dir`: needs root and mkfs.btrfs
 * (btrfs-progs; .ci/run installs it). Returns the unmount function, or why it could not be made.
 */
export function mountBtrfs(dir: string, sizeMb = 200): (() => void) | string {
  return mountImage('btrfs', dir, sizeMb);
}

/** A fresh ext4 file system with the defaults of mkfs.ext4 (a journal, delayed allocation), loop-mounted at dir. */
export function mountExt4(dir: string, sizeMb = 64): (() => void) | string {
  return mountImage('ext4', dir, sizeMb);
}

/** A loop-mounted file system image at dir (root only); the unmount function, or why it could not be made. */
function mountImage(kind: 'btrfs' | 'ext4', dir: string, sizeMb: number): (() => void) | string {
  if (process.getuid?.() !== 0) return 'not root (a loop mount needs root)';
  const img = `${dir}.img`;
  const mkfs = `mkfs.${kind}`;
  const pkg = kind === 'btrfs' ? 'btrfs-progs' : 'e2fsprogs';
  try { execFileSync(mkfs, ['-V'], { stdio: 'pipe' }); } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return `${mkfs} not found (apt-get install ${pkg})`;
  }
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.closeSync(fs.openSync(img, 'w'));
    fs.truncateSync(img, sizeMb << 20);
    execFileSync(mkfs, kind === 'btrfs' ? ['-q', img] : ['-q', '-F', img], { stdio: 'pipe' });
    execFileSync('mount', ['-o', 'loop', img, dir], { stdio: 'pipe' });
  } catch (e) { fs.rmSync(img, { force: true }); return `cannot mount a ${kind} image: ${String((e as Error).message).split('\n')[0]}`; }
  return () => { try { execFileSync('umount', ['-d', dir], { stdio: 'pipe' }); } catch { /* already gone */ } fs.rmSync(img, { force: true }); };
}

export function remount(dir: string, opts: string): void {
  execFileSync('mount', ['-o', `remount,${opts}`, dir], { stdio: 'pipe' });
}
