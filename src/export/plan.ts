// The plan (dry run): which file goes where, what collides, how many bytes will be written. Nothing on disk is
// changed; the plan is stored in the journal (state 'planned') so that running it executes exactly this plan.
import fs from 'node:fs';
import path from 'node:path';
import type { DB } from '../store/db.ts';
import { renderTemplate, sanitizeSegment, templateError, foldKey } from './names.ts';
import { hashBuffer, hashFile, nodeFs, type ExportFs } from './fsops.ts';
import { Listing, resolveUnit, type Op, type Want } from './resolve.ts';
import { buildXmp, mergeXmpKeywords } from './xmp.ts';
import { markedFolder, markerUnsafeReasonOnDisk, moveIntoMarkedMessage, unmarkedWarning } from './marker.ts';

export type ExportMode = 'copy' | 'hardlink' | 'symlink' | 'move';

export interface ExportOptions {
  to: string;
  mode: ExportMode;
  template: string;
  unlabeled: 'skip' | 'folder';
  unsortedName: string;
  keywords: boolean;
  photoIds?: number[];
}

// The plan's shape is the API's (one definition, in the contract).
export type { ExportConflict as PlanConflict, ExportPlan as PlanSummary } from '../api/contract/export.ts';
import type { ExportConflict as PlanConflict, ExportPlan as PlanSummary } from '../api/contract/export.ts';
type PlanSkip = PlanSummary['skipped'][number];

const RAW_EXT = new Set(['.cr2', '.cr3', '.crw', '.nef', '.nrw', '.arw', '.srf', '.sr2', '.dng', '.raf', '.orf', '.rw2', '.pef', '.srw', '.x3f', '.3fr', '.iiq', '.rwl', '.erf', '.mrw', '.kdc', '.dcr', '.mef', '.mos']);
const LIST_CAP = 1000;

export interface PlanItem {
  grp: number; unit: number; seq: number; photoId: number | null; kind: 'photo' | 'sidecar' | 'keywords';
  op: Op; src: string | null; dir: string; want: string; dst: string; size: number; expectHash: string | null;
  content: string | null; state: 'pending' | 'skipped'; result: string | null;
}

interface PhotoRow { id: number; path: string; size: number; hash: string | null; taken_at: string | null; camera_make: string | null; camera_model: string | null; status: string }

export class PlanError extends Error {}

/** Finds the sidecars of a photo among the names of its folder (case-insensitive). */
export function findSidecars(fileName: string, dirNames: string[], photoNames: Set<string>): { name: string; nameFor: (p: string) => string }[] {
  const ext = path.extname(fileName);
  const stem = fileName.slice(0, fileName.length - ext.length);
  const lf = fileName.toLowerCase();
  const ls = stem.toLowerCase();
  const out: { name: string; nameFor: (p: string) => string }[] = [];
  for (const e of dirNames) {
    const le = e.toLowerCase();
    if (le === lf || photoNames.has(le)) continue;
    const stemOf = (p: string) => p.slice(0, p.length - path.extname(p).length);
    if (le === lf + '.xmp') {
      out.push({ name: e, nameFor: (p) => p + e.slice(fileName.length) });
    } else if (le.startsWith(ls + '.')) {
      const rest = le.slice(ls.length);
      if (rest === '.xmp' || rest === '.aae' || RAW_EXT.has(rest)) {
        const suffix = e.slice(stem.length);
        out.push({ name: e, nameFor: (p) => stemOf(p) + suffix });
      }
    }
  }
  return out;
}

/** A name without its last extension, lower case (the key of the sidecar candidates). */
function stemKey(name: string): string {
  const l = name.toLowerCase();
  const dot = l.lastIndexOf('.');
  return dot > 0 ? l.slice(0, dot) : l;
}

async function deviceOf(p: string): Promise<{ dev: number; free: number | null }> {
  let cur = path.resolve(p);
  for (;;) {
    try {
      const st = await fs.promises.stat(cur);
      let free: number | null = null;
      try { const sf = await fs.promises.statfs(cur); free = sf.bavail * sf.bsize; } catch { /* not supported */ }
      return { dev: st.dev, free };
    } catch {
      const up = path.dirname(cur);
      if (up === cur) return { dev: -1, free: null };
      cur = up;
    }
  }
}

interface PlanCounters {
  identical: number; renamed: number; bytesToWrite: number; sidecarCount: number; keywordFiles: number;
  placements: number; photoCount: number; crossDevice: number; grp: number; unit: number; seq: number;
}

/** What planPhoto reads and fills: the export's options and caches, the items and folders planned so far. */
interface PlanCtx {
  opts: ExportOptions; xfs: ExportFs; dest: string; destDev: { dev: number; free: number | null }; unsorted: string;
  labelsOf: Map<number, string[]>; photoPaths: Map<string, Set<string>>; srcDirs: Map<string, string[]>;
  stemIndex: Map<string, Map<string, string[]>>; stats: Map<string, fs.Stats | null>; listing: Listing;
  items: PlanItem[]; folders: Map<string, { folder: string; photos: number; bytes: number }>;
  conflict: (c: PlanConflict) => void; skip: (s: PlanSkip) => void;
  mergedXmp: (file: string, labels: string[]) => Promise<string | null>; blockedBy: (dir: string) => Promise<string | null>;
  tally: PlanCounters;
}

/**
 * Plans one photo: its placements (one per label), its sidecars and keyword files, their names (false: skipped,
 * reported in `skip`). A function of its own (not the body of planExport's loop): V8 optimises it once and keeps
 * it, where the loop of one large function was compiled again in every export (110-290 ms of compile work per
 * export, more than the planning itself).
 */
async function planPhoto(ctx: PlanCtx, p: PhotoRow): Promise<boolean> {
  const { opts, xfs, dest, destDev, unsorted, labelsOf, photoPaths, srcDirs, stemIndex, stats, listing, items, folders, conflict, skip, mergedXmp, blockedBy, tally } = ctx;
  if (p.status === 'missing') { skip({ photoId: p.id, path: p.path, reason: 'missing from disk (index status)' }); return false; }
  const st = stats.get(p.path) ?? null;
  if (!st || !st.isFile()) { skip({ photoId: p.id, path: p.path, reason: 'source file not found' }); return false; }
  const labels = labelsOf.get(p.id) ?? [];
  if (labels.length === 0 && opts.unlabeled === 'skip') { skip({ photoId: p.id, path: p.path, reason: 'unlabeled' }); return false; }
  const folderLabels = labels.length ? labels : [unsorted];

  const srcDir = path.dirname(p.path);
  let names = srcDirs.get(srcDir);
  if (!names) { names = await xfs.readdir(srcDir).catch(() => []); srcDirs.set(srcDir, names); }
  const fileName = path.basename(p.path);
  // candidates: the folder's names whose name without its last extension is the photo's name (IMG_1.JPG.xmp)
  // or the photo's name without its extension (IMG_1.xmp, IMG_1.AAE, IMG_1.CR2): exactly the sidecar forms
  let byStem = stemIndex.get(srcDir);
  if (!byStem) {
    byStem = new Map();
    for (const n of names) { const k = stemKey(n); let l = byStem.get(k); if (!l) byStem.set(k, (l = [])); l.push(n); }
    stemIndex.set(srcDir, byStem);
  }
  const lowerName = fileName.toLowerCase();
  const sidecars = findSidecars(fileName, [...(byStem.get(stemKey(fileName)) ?? []), ...(byStem.get(lowerName) ?? [])], photoPaths.get(srcDir) ?? new Set());
  const sidecarInfo: { src: string; size: number; hash: string; nameFor: (p: string) => string }[] = [];
  for (const sc of sidecars) {
    const scPath = path.join(srcDir, sc.name);
    const sst = await xfs.lstat(scPath);
    if (!sst || !sst.isFile()) continue;
    sidecarInfo.push({ src: scPath, size: sst.size, hash: await hashFile(xfs, scPath), nameFor: sc.nameFor });
  }
  const photoHash = p.hash ?? await hashFile(xfs, p.path);
  const sameDev = st.dev === destDev.dev;
  if (opts.mode === 'hardlink' && !sameDev) {
    tally.crossDevice++;
    conflict({ photoId: p.id, src: p.path, dst: dest, kind: 'crossDevice', detail: 'hard links cannot cross file systems: this photo will fail; use copy' });
  }
  // move: the copies (extra labels) first, the move last; the photo moves into its first label's folder
  const placementLabels = opts.mode === 'move' ? [...folderLabels.slice(1), folderLabels[0]] : folderLabels;
  tally.photoCount++;
  for (let li = 0; li < placementLabels.length; li++) {
    const label = placementLabels[li];
    const isMove = opts.mode === 'move' && li === placementLabels.length - 1;
    const op: Op = opts.mode === 'move' ? (isMove ? 'move' : 'copy') : opts.mode;
    const r = renderTemplate(opts.template, { label, takenAt: p.taken_at, cameraMake: p.camera_make, cameraModel: p.camera_model, fileName });
    const dir = await listing.canonicalDir(dest, r.folders);
    const blocker = await blockedBy(dir);
    if (blocker) {
      conflict({ photoId: p.id, src: p.path, dst: dir, kind: 'blocked', detail: `${blocker} is a file where a folder should be: this photo will fail` });
    }
    const wants: (Want & { kind: PlanItem['kind']; size: number; content: string | null })[] = [
      { kind: 'photo', op, src: p.path, expectHash: photoHash, size: p.size, nameFor: (n) => n, content: null },
      ...sidecarInfo.map((s) => ({ kind: 'sidecar' as const, op: (op === 'move' ? 'move' : op) as Op, src: s.src, expectHash: s.hash, size: s.size, nameFor: s.nameFor, content: null })),
    ];
    if (opts.keywords && labels.length) {
      const kwFor = (n: string) => n + '.xmp';
      const clashAt = wants.findIndex((w) => w.kind === 'sidecar' && foldKey(w.nameFor(r.fileName)) === foldKey(kwFor(r.fileName)));
      if (clashAt >= 0) {
        // the photo already has this XMP sidecar (darktable writes one for every photo it opened): a copied
        // sidecar gets the keywords merged into it, the original staying as it is; a moved or linked one is the
        // original itself and travels unchanged
        const sc = wants[clashAt];
        const merged = sc.op === 'copy' ? await mergedXmp(sc.src!, labels) : null;
        if (merged !== null) {
          wants[clashAt] = { kind: 'keywords', op: 'write', src: null, expectHash: hashBuffer(merged), size: Buffer.byteLength(merged), nameFor: sc.nameFor, content: merged };
        } else {
          conflict({ photoId: p.id, src: p.path, dst: path.join(dir, kwFor(r.fileName)), kind: 'keywordsSkipped', detail: sc.op === 'copy'
            ? 'the photo already has this XMP sidecar, in a form Sift cannot add keywords to safely; it is copied as is and keywords are not written'
            : `the photo already has this XMP sidecar; it is ${sc.op === 'move' ? 'moved' : 'linked'} as is (it is the original) and keywords are not written` });
        }
      } else {
        const xmp = buildXmp(labels);
        wants.push({ kind: 'keywords', op: 'write', src: null, expectHash: hashBuffer(xmp), size: Buffer.byteLength(xmp), nameFor: kwFor, content: xmp });
      }
    }
    const res = await resolveUnit(listing, dir, r.fileName, wants);
    tally.placements++;
    tally.unit++;
    const folderRel = path.relative(dest, dir) || '.';
    let f = folders.get(folderRel);
    if (!f) folders.set(folderRel, (f = { folder: folderRel, photos: 0, bytes: 0 }));
    f.photos++;
    if (res.n > 0) {
      tally.renamed++;
      conflict({ photoId: p.id, src: p.path, dst: path.join(dir, res.photoName), kind: 'renamed', detail: `a different file is already named ${r.fileName}` });
    }
    wants.forEach((w, i) => {
      const slot = res.slots[i];
      const dst = path.join(dir, slot.name);
      const isIdent = slot.state === 'identical';
      if (isIdent) {
        tally.identical++;
        conflict({ photoId: p.id, src: w.src, dst, kind: 'identical', detail: 'identical content already there: skipped' });
      } else {
        listing.reserve(dir, slot.name, w.expectHash);
        const writes = w.op === 'copy' || w.op === 'write' || (w.op === 'move' && !sameDev);
        if (writes) { tally.bytesToWrite += w.size; f.bytes += w.size; }
      }
      if (w.kind === 'sidecar') tally.sidecarCount++;
      if (w.kind === 'keywords') tally.keywordFiles++;
      items.push({
        grp: tally.grp, unit: tally.unit, seq: tally.seq++, photoId: p.id, kind: w.kind, op: w.op, src: w.src, dir, want: w.kind === 'photo' ? r.fileName : w.nameFor(r.fileName),
        dst, size: w.size, expectHash: w.expectHash, content: w.content,
        state: isIdent ? 'skipped' : 'pending', result: isIdent ? 'identical' : (res.n > 0 ? 'renamed' : null),
      });
    });
  }
  return true;
}

/** Builds the plan, stores it in the journal (state 'planned') and returns its summary. Changes nothing on disk. */
export async function planExport(db: DB, opts: ExportOptions, xfs: ExportFs = nodeFs): Promise<PlanSummary> {
  const terr = templateError(opts.template);
  if (terr) throw new PlanError(`Bad template "${opts.template}": ${terr}`);
  if (!opts.to.trim()) throw new PlanError('No destination folder given');
  const dest = path.resolve(opts.to);
  const destSt = await xfs.lstat(dest);
  if (destSt && !destSt.isDirectory()) throw new PlanError(`The destination ${dest} exists and is not a folder`);
  const unsorted = sanitizeSegment(opts.unsortedName || 'Unsorted');

  let photos: PhotoRow[];
  if (opts.photoIds) {
    const sel = db.prepare(`SELECT id, path, size, hash, taken_at, camera_make, camera_model, status FROM photos WHERE id = ?`);
    photos = opts.photoIds.map((id) => sel.get(id) as PhotoRow | undefined).filter((r): r is PhotoRow => !!r);
    const missingIds = opts.photoIds.filter((id) => !photos.some((p) => p.id === id));
    if (missingIds.length) throw new PlanError(`Unknown photo id(s): ${missingIds.slice(0, 10).join(', ')}`);
  } else {
    photos = db.prepare(`SELECT id, path, size, hash, taken_at, camera_make, camera_model, status FROM photos ORDER BY path`).all() as PhotoRow[];
  }
  const labelsOf = new Map<number, string[]>();
  for (const r of db.prepare(`SELECT photo_id, label FROM v_photo_labels ORDER BY label COLLATE NOCASE`).all() as { photo_id: number; label: string }[]) {
    let l = labelsOf.get(r.photo_id);
    if (!l) labelsOf.set(r.photo_id, (l = []));
    l.push(r.label);
  }
  const photoPaths = new Map<string, Set<string>>(); // dir -> lowercase names of indexed photos (not sidecars)
  for (const p of db.prepare(`SELECT path FROM photos`).all() as { path: string }[]) {
    const d = path.dirname(p.path);
    let s = photoPaths.get(d);
    if (!s) photoPaths.set(d, (s = new Set()));
    s.add(path.basename(p.path).toLowerCase());
  }

  const listing = new Listing(xfs);
  const srcDirs = new Map<string, string[]>();
  const destDev = await deviceOf(dest);
  const items: PlanItem[] = [];
  const conflicts: PlanConflict[] = [];
  const skipped: PlanSkip[] = [];
  let conflictsTotal = 0, skippedTotal = 0;
  // the counters of the plan, shared with planPhoto
  const tally: PlanCounters = { identical: 0, renamed: 0, bytesToWrite: 0, sidecarCount: 0, keywordFiles: 0, placements: 0, photoCount: 0, crossDevice: 0, grp: 0, unit: 0, seq: 0 };
  const folders = new Map<string, { folder: string; photos: number; bytes: number }>();
  const warnings: string[] = [];
  const conflict = (c: PlanConflict) => { conflictsTotal++; if (conflicts.length < LIST_CAP) conflicts.push(c); };
  const skip = (s: PlanSkip) => { skippedTotal++; if (skipped.length < LIST_CAP) skipped.push(s); };

  // stat every source and list every source folder first, many at a time (the thread pool overlaps them)
  const stats = new Map<string, fs.Stats | null>();
  const stemIndex = new Map<string, Map<string, string[]>>();
  // an existing XMP sidecar with the labels merged in as keywords (per sidecar and label set), or null
  const merges = new Map<string, string | null>();
  const mergedXmp = async (file: string, labels: string[]): Promise<string | null> => {
    const key = `${file}\0${labels.join('\0')}`;
    if (!merges.has(key)) {
      // only valid UTF-8 is edited: any other bytes would not survive the round trip through a string
      const text = await xfs.readFile(file).then((b) => { const t = b.toString('utf8'); return Buffer.from(t, 'utf8').equals(b) ? t : null; }, () => null);
      merges.set(key, text === null ? null : mergeXmpKeywords(text, labels));
    }
    return merges.get(key)!;
  };
  // a path component of a target folder that exists but is not a folder (checked once per folder)
  const blockedCache = new Map<string, string | null>();
  const blockedBy = async (dir: string): Promise<string | null> => {
    if (blockedCache.has(dir)) return blockedCache.get(dir)!;
    let res: string | null = null;
    if (dir !== dest && dir.startsWith(dest)) {
      const st = await xfs.lstat(dir);
      if (st && !st.isDirectory()) res = dir;
      else if (!st) res = await blockedBy(path.dirname(dir));
    }
    blockedCache.set(dir, res);
    return res;
  };
  {
    const paths = photos.filter((p) => p.status !== 'missing').map((p) => p.path);
    const dirsToList = [...new Set(paths.map((p) => path.dirname(p)))];
    for (let i = 0; i < dirsToList.length; i += 32) {
      const chunk = dirsToList.slice(i, i + 32);
      const lists = await Promise.all(chunk.map((d) => xfs.readdir(d).catch(() => [] as string[])));
      chunk.forEach((d, k) => srcDirs.set(d, lists[k]));
    }
    if (xfs.lstatMany) {
      const sts = await xfs.lstatMany(paths);
      paths.forEach((p, k) => stats.set(p, sts[k]));
    } else {
      for (let i = 0; i < paths.length; i += 64) {
        const chunk = paths.slice(i, i + 64);
        const sts = await Promise.all(chunk.map((p) => xfs.lstat(p).catch(() => null)));
        chunk.forEach((p, k) => stats.set(p, sts[k]));
      }
    }
  }

  const ctx: PlanCtx = { opts, xfs, dest, destDev, unsorted, labelsOf, photoPaths, srcDirs, stemIndex, stats, listing, items, folders, conflict, skip, mergedXmp, blockedBy, tally };
  for (const p of photos) if (await planPhoto(ctx, p)) tally.grp++;   // a skipped photo takes no group number
  if (tally.crossDevice) warnings.push(`${tally.crossDevice} photo(s) are on another file system than ${dest}: hard links are impossible there`);
  if (opts.mode === 'move' && photos.length && items.some((i) => i.op === 'move')) {
    const srcDev = (await xfs.lstat(items.find((i) => i.op === 'move')!.src!))?.dev;
    if (srcDev !== undefined && srcDev !== destDev.dev) warnings.push('moving across file systems: each file is copied, synced, verified, then its source deleted');
  }
  if (opts.mode === 'move') {
    // a move must not put library photos under a folder holding a .sift-export marker: the scan skips it
    const cache = new Map<string, string | null>();
    for (const d of new Set([dest, ...items.filter((i) => i.op === 'move').map((i) => i.dir)])) {
      const marked = await markedFolder(xfs, d, cache);
      if (marked) throw new PlanError(moveIntoMarkedMessage(d, marked));
    }
  } else if (items.some((i) => i.state === 'pending')) {
    const why = await markerUnsafeReasonOnDisk(xfs, db, dest);
    if (why) warnings.push(unmarkedWarning(why));
  }
  if (destDev.free !== null && tally.bytesToWrite > destDev.free) warnings.push(`not enough free space: ${tally.bytesToWrite} bytes to write, ${destDev.free} free at ${dest}`);

  const options = { ...opts, to: dest };
  const summaryBase = {
    dest, mode: opts.mode, template: opts.template, unlabeled: opts.unlabeled, keywords: opts.keywords,
    photos: tally.photoCount, placements: tally.placements, files: items.length, sidecars: tally.sidecarCount, keywordFiles: tally.keywordFiles, bytesToWrite: tally.bytesToWrite, freeBytes: destDev.free,
    identical: tally.identical, renamed: tally.renamed, folders: [...folders.values()].sort((a, b) => a.folder.localeCompare(b.folder)),
    conflicts, conflictsTotal, skipped, skippedTotal, warnings,
  };
  const exportId = db.transaction(() => {
    const id = Number(db.prepare(`INSERT INTO exports (created_at, dest, mode, template, options, state, summary) VALUES (?, ?, ?, ?, ?, 'planned', ?)`)
      .run(Date.now(), dest, opts.mode, opts.template, JSON.stringify(options), JSON.stringify(summaryBase)).lastInsertRowid);
    const ins = db.prepare(`INSERT INTO export_items (export_id, grp, unit, seq, photo_id, kind, op, src, dir, want, dst, size, expect_hash, content, state, result)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    for (const it of items) ins.run(id, it.grp, it.unit, it.seq, it.photoId, it.kind, it.op, it.src, it.dir, it.want, it.dst, it.size, it.expectHash, it.content, it.state, it.result);
    return id;
  })();
  return { exportId, ...summaryBase };
}
