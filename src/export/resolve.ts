// Resolving target names: folder spelling (case-insensitive), collisions with what is on disk and with what this
// export already placed, identical-content detection. Used by the plan and again by the execution (the disk may
// have changed in between).
import path from 'node:path';
import { foldKey, numbered } from './names.ts';
import { errCode, hashFile, sameHash, type ExportFs } from './fsops.ts';

export type Op = 'copy' | 'hardlink' | 'symlink' | 'move' | 'write';

export interface Want {
  /** target name relative to the photo's name: (photoName) => this item's file name */
  nameFor(photoName: string): string;
  op: Op;
  src: string | null;
  /** the content hash the target must have to count as identical */
  expectHash: string | null;
}

export type SlotState = 'free' | 'identical' | 'different';

/** Names in folders: what is on disk (read once per folder) plus what this export reserved. Case-insensitive. */
export class Listing {
  private dirs = new Map<string, Map<string, string> | null>();
  private reserved = new Map<string, Map<string, string | null>>(); // dir -> fold -> hash reserved (null: unknown)
  constructor(private xfs: ExportFs) {}

  /** fold -> actual name of what is on disk in dir (null when dir does not exist). */
  async onDisk(dir: string): Promise<Map<string, string> | null> {
    if (this.dirs.has(dir)) return this.dirs.get(dir)!;
    let m: Map<string, string> | null = null;
    try {
      const names = await this.xfs.readdir(dir);
      m = new Map();
      for (const n of names) if (!m.has(foldKey(n))) m.set(foldKey(n), n);
    } catch (e) {
      if (errCode(e) !== 'ENOENT' && errCode(e) !== 'ENOTDIR') throw e;
    }
    this.dirs.set(dir, m);
    return m;
  }

  forget(dir: string): void { this.dirs.delete(dir); }

  noteCreated(dir: string, name: string): void {
    let m = this.dirs.get(dir);
    if (!m) { m = new Map(); this.dirs.set(dir, m); }
    if (!m.has(foldKey(name))) m.set(foldKey(name), name);
  }

  reserve(dir: string, name: string, hash: string | null): void {
    let m = this.reserved.get(dir);
    if (!m) { m = new Map(); this.reserved.set(dir, m); }
    m.set(foldKey(name), hash);
  }

  release(dir: string, name: string): void { this.reserved.get(dir)?.delete(foldKey(name)); }

  reservedHash(dir: string, name: string): { hash: string | null } | undefined {
    const m = this.reserved.get(dir);
    const k = foldKey(name);
    return m && m.has(k) ? { hash: m.get(k)! } : undefined;
  }

  /**
   * Canonical spelling of dest/segs: an existing folder (or one this export already chose) whose name differs
   * only by case is reused, so 'Cats' and 'cats' never become two folders (they cannot on macOS/Windows).
   */
  private dirSpelling = new Map<string, string>();
  async canonicalDir(dest: string, segs: string[]): Promise<string> {
    let cur = dest;
    for (const seg of segs) {
      const key = path.join(cur, foldKey(seg));
      const known = this.dirSpelling.get(key);
      if (known) { cur = known; continue; }
      const disk = await this.onDisk(cur);
      const actual = disk?.get(foldKey(seg));
      const next = path.join(cur, actual ?? seg);
      this.dirSpelling.set(key, next);
      cur = next;
    }
    return cur;
  }

  /** What is at dir/name for an item wanting content `want` (free, identical content, or a different file). */
  async slot(dir: string, name: string, want: Want): Promise<{ state: SlotState; actual: string }> {
    const res = this.reservedHash(dir, name);
    if (res) return { state: res.hash && sameHash(res.hash, want.expectHash) ? 'identical' : 'different', actual: name };
    const disk = await this.onDisk(dir);
    const actual = disk?.get(foldKey(name));
    if (!actual) return { state: 'free', actual: name };
    const file = path.join(dir, actual);
    return { state: (await isIdentical(this.xfs, file, want)) ? 'identical' : 'different', actual };
  }
}

export async function isIdentical(xfs: ExportFs, file: string, want: Want): Promise<boolean> {
  const st = await xfs.lstat(file);
  if (!st) return false;
  if (st.isSymbolicLink()) {
    if (want.op !== 'symlink' || !want.src) return false;
    try { return path.resolve(path.dirname(file), await xfs.readlink(file)) === want.src; } catch { return false; }
  }
  if (!st.isFile()) return false;
  if (want.src && (want.op === 'hardlink' || want.op === 'move')) {
    const s = await xfs.lstat(want.src);
    if (s && s.ino === st.ino && s.dev === st.dev) return true;
  }
  if (!want.expectHash) return false;
  try { return sameHash(await hashFile(xfs, file), want.expectHash); } catch { return false; }
}

export interface Resolved { photoName: string; n: number; slots: { name: string; state: 'free' | 'identical' }[] }

/**
 * Picks the first photo name (name, "name (1)", "name (2)", ...) for which every item of the placement (the
 * photo, its sidecars, its keyword file) is either free or already holds identical content.
 */
export async function resolveUnit(listing: Listing, dir: string, wantName: string, items: Want[]): Promise<Resolved> {
  for (let n = 0; n < 10_000; n++) {
    const photoName = numbered(wantName, n);
    const slots: { name: string; state: 'free' | 'identical' }[] = [];
    let ok = true;
    for (const it of items) {
      const name = it.nameFor(photoName);
      const s = await listing.slot(dir, name, it);
      if (s.state === 'different') { ok = false; break; }
      slots.push({ name: s.state === 'identical' ? s.actual : name, state: s.state });
    }
    if (ok) return { photoName, n, slots };
  }
  throw new Error(`no free name for ${wantName} in ${dir}`);
}
