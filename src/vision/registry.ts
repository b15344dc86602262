// Model registry: the embedded default models (converted at install into resources/models), user-supplied
// ONNX image models and downloaded models (both in <dataDir>/models), each described by a manifest
// `<id>.json` next to `<id>.onnx`; and the model sets built from them (what an embedding is made of).
import fs from 'node:fs';
import path from 'node:path';
import { parseManifest, sha256File, type ModelManifest } from './manifest.ts';

export type { ModelManifest } from './manifest.ts';

export type ModelOrigin = 'default' | 'user' | 'downloaded';
export interface ModelEntry { manifest: ModelManifest; file: string; origin: ModelOrigin; manifestFile: string }

/** How a model's input is made from the decoded photo. */
export type Fit = 'crop' | 'stretch' | 'letterbox';

export interface ModelSetPart { model: string; fit: Fit; outputs: string[] }
export interface ModelSet {
  id: string;
  parts: ModelSetPart[];
  /** The output whose per-class scores are stored as tags (with the manifest's labels). */
  tags?: { model: string; output: string };
}

/**
 * The default: [mid feat | centernet presence | centernet feat], each L2-normalised, concatenated, L2 again.
 * Centernet gets a 512 letterbox: on dev-library the 424-d vector scores 1-NN .94 / NMI .87 with it vs
 * .92 / .85 with a stretch (bench:embed --quality; README, Learned features), although cn feat alone prefers stretch.
 */
export const DEFAULT_MODEL_SET: ModelSet = {
  id: 'default-424-v1',
  parts: [
    { model: 'mobilenet_v2_mid', fit: 'crop', outputs: ['feat'] },
    { model: 'centernet', fit: 'letterbox', outputs: ['presence', 'feat'] },
  ],
  tags: { model: 'centernet', output: 'presence' },
};

export class ModelError extends Error {
  constructor(message: string) { super(message); this.name = 'ModelError'; }
}

export class Registry {
  constructor(readonly defaultsDir: string, readonly userDir: string) {}

  private scan(dir: string, origin: ModelOrigin): ModelEntry[] {
    if (!fs.existsSync(dir)) return [];
    const out: ModelEntry[] = [];
    for (const f of fs.readdirSync(dir).sort()) {
      if (!f.endsWith('.json') || f.endsWith('.part.json')) continue;
      try { out.push(readEntry(path.join(dir, f), origin)); } catch { /* listed by status() as broken */ }
    }
    return out;
  }

  /** Every model with a readable manifest; user/downloaded ones override defaults with the same id. */
  models(): ModelEntry[] {
    const byId = new Map<string, ModelEntry>();
    for (const e of this.scan(this.defaultsDir, 'default')) byId.set(e.manifest.id, e);
    for (const e of this.scan(this.userDir, 'user')) byId.set(e.manifest.id, e);
    return [...byId.values()];
  }

  /** The model `id`, checked: manifest readable, file present. Throws ModelError with what to do. */
  get(id: string): ModelEntry {
    for (const [dir, origin] of [[this.userDir, 'user'], [this.defaultsDir, 'default']] as const) {
      const mf = path.join(dir, `${id}.json`);
      if (fs.existsSync(mf)) {
        const e = readEntry(mf, origin);
        if (!fs.existsSync(e.file)) throw new ModelError(`Model ${id}: its ONNX file is missing (${e.file}).${origin === 'default' ? ' Run `npm run build:models`.' : ' Reinstall the model.'}`);
        const v = verifyModel(e);
        if (!v.ok) throw new ModelError(v.reason);
        return e;
      }
    }
    throw new ModelError(`Model ${id} is not installed (no ${id}.json in ${this.defaultsDir} or ${this.userDir}).` +
      (DEFAULT_MODEL_SET.parts.some((p) => p.model === id) ? ' The default models are built by `npm run build:models`.' : ''));
  }

  /** Every model set available: the default one and one per non-default model (its first output). */
  modelSets(): ModelSet[] {
    const sets: ModelSet[] = [DEFAULT_MODEL_SET];
    const defaults = new Set(DEFAULT_MODEL_SET.parts.map((p) => p.model));
    for (const e of this.models()) {
      if (defaults.has(e.manifest.id) && e.origin === 'default') continue;
      sets.push(singleModelSet(e.manifest));
    }
    return sets;
  }

  modelSet(id: string): ModelSet {
    const s = this.modelSets().find((m) => m.id === id);
    if (!s) throw new ModelError(`Unknown model set ${id}; available: ${this.modelSets().map((m) => m.id).join(', ')}`);
    return s;
  }

  /** Checks every model of a set (manifest, file, outputs named by the set); returns what the worker needs. */
  resolve(set: ModelSet): ResolvedSet {
    const models = set.parts.map((p) => {
      const e = this.get(p.model);
      for (const o of p.outputs) {
        if (!e.manifest.outputs.some((x) => x.name === o)) throw new ModelError(`Model ${p.model} has no output ${o} (manifest ${e.manifestFile})`);
      }
      return { id: p.model, file: e.file, fit: p.fit, outputs: p.outputs, manifest: e.manifest };
    });
    const dim = models.reduce((s, m) => s + m.outputs.reduce((t, o) => t + m.manifest.outputs.find((x) => x.name === o)!.dim, 0), 0);
    const tagLabels = set.tags ? this.get(set.tags.model).manifest.outputs.find((o) => o.name === set.tags!.output)?.labels ?? null : null;
    return { id: set.id, dim, models, tags: set.tags && tagLabels ? { ...set.tags, labels: tagLabels } : null };
  }
}

export interface ResolvedModel { id: string; file: string; fit: Fit; outputs: string[]; manifest: ModelManifest }
export interface ResolvedSet { id: string; dim: number; models: ResolvedModel[]; tags: { model: string; output: string; labels: string[] } | null }

export function singleModelSet(m: ModelManifest): ModelSet {
  const o = m.outputs[0];
  return { id: `${m.id}@${m.version}`, parts: [{ model: m.id, fit: fitOf(m), outputs: [o.name] }], tags: o.labels ? { model: m.id, output: o.name } : undefined };
}

/** The fit a model's manifest advises (centre crop when it has no preference). */
export function fitOf(m: ModelManifest): Fit {
  return m.input.resize === 'stretch' ? 'stretch' : m.input.resize === 'letterbox' ? 'letterbox' : 'crop';
}

export function readEntry(manifestFile: string, origin: ModelOrigin): ModelEntry {
  let raw: unknown;
  try { raw = JSON.parse(fs.readFileSync(manifestFile, 'utf8')); } catch (e) {
    throw new ModelError(`Model manifest ${manifestFile} is not readable JSON: ${(e as Error).message}`);
  }
  let m: ModelManifest;
  try { m = parseManifest(raw, manifestFile); } catch (e) { throw new ModelError((e as Error).message); }
  const file = path.resolve(path.dirname(manifestFile), m.file);
  const o = origin === 'user' && m.notes?.startsWith('downloaded') ? 'downloaded' : origin;
  return { manifest: m, file, origin: o, manifestFile };
}

const verified = new Map<string, string>();

/** Checks a model file against its manifest's SHA-256 (when it has one). */
export function verifyModel(e: ModelEntry): { ok: true } | { ok: false; reason: string } {
  if (!fs.existsSync(e.file)) return { ok: false, reason: `file missing: ${e.file}` };
  const st = fs.statSync(e.file);
  const key = `${e.file}|${st.size}|${st.mtimeMs}`;
  let h = verified.get(key);
  if (!h) { h = sha256File(e.file); verified.set(key, h); }
  if (h !== e.manifest.sha256) {
    return { ok: false, reason: `Model ${e.manifest.id}: file ${e.file} does not match its manifest (sha256 ${h.slice(0, 12)}…, expected ${e.manifest.sha256.slice(0, 12)}…): it is corrupt or was changed; ${e.origin === 'default' ? 'run `npm run build:models`' : 'reinstall the model'}` };
  }
  return { ok: true };
}

/** Installs a user-supplied ONNX image model with its manifest into the user models folder. */
export function installUserModel(userDir: string, onnxFile: string, manifest: unknown): ModelEntry {
  if (!fs.existsSync(onnxFile)) throw new ModelError(`No such file: ${onnxFile}`);
  const sha = sha256File(onnxFile);
  let m: ModelManifest;
  try { m = parseManifest({ sha256: sha, ...(manifest as object), file: `${(manifest as { id?: string }).id}.onnx` }, 'the model manifest'); } catch (e) { throw new ModelError((e as Error).message); }
  if (m.sha256 !== sha) throw new ModelError(`Model ${m.id}: ${onnxFile} does not match the manifest's sha256`);
  fs.mkdirSync(userDir, { recursive: true });
  const dest = path.join(userDir, m.file);
  fs.copyFileSync(onnxFile, dest + '.tmp');
  fs.renameSync(dest + '.tmp', dest);
  const mf = path.join(userDir, `${m.id}.json`);
  fs.writeFileSync(mf + '.tmp', JSON.stringify(m, null, 2));
  fs.renameSync(mf + '.tmp', mf);
  return readEntry(mf, 'user');
}
