// Model registry: the embedded default models (converted at install into resources/models), user-supplied
// ONNX image models and downloaded models (both in <dataDir>/models), each described by a manifest
// `<id>.json` next to `<id>.onnx`; and the model sets built from them (what an embedding is made of).
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { z } from 'zod';

/** A model's manifest as the vision runtime needs it (the converter's manifests map onto this). */
export const modelManifest = z.object({
  id: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'model id: letters, digits, _ . - only'),
  version: z.union([z.string(), z.number()]).transform(String).default('1'),
  source: z.string().optional(),
  file: z.string().optional(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  input: z.object({
    name: z.string().optional(),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    layout: z.enum(['NCHW', 'NHWC']),
    /** value = (pixel * scale - mean[c]) / std[c] */
    scale: z.number().default(1 / 255),
    mean: z.array(z.number()).length(3).default([0, 0, 0]),
    std: z.array(z.number()).length(3).default([1, 1, 1]),
    /** batch size the graph accepts: 0 = dynamic */
    batch: z.number().int().min(0).default(0),
  }),
  outputs: z.array(z.object({ name: z.string(), dim: z.number().int().positive(), labels: z.array(z.string()).optional() })).min(1),
});
export type ModelManifest = z.output<typeof modelManifest>;

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

/** The default: [mid feat | centernet presence | centernet feat], each L2-normalised, concatenated, L2 again. */
export const DEFAULT_MODEL_SET: ModelSet = {
  id: 'default-424-v1',
  parts: [
    { model: 'mobilenet_v2_mid', fit: 'crop', outputs: ['feat'] },
    { model: 'centernet', fit: 'stretch', outputs: ['presence', 'feat'] },
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
  return { id: `${m.id}@${m.version}`, parts: [{ model: m.id, fit: 'crop', outputs: [o.name] }], tags: o.labels ? { model: m.id, output: o.name } : undefined };
}

export function readEntry(manifestFile: string, origin: ModelOrigin): ModelEntry {
  let raw: unknown;
  try { raw = JSON.parse(fs.readFileSync(manifestFile, 'utf8')); } catch (e) {
    throw new ModelError(`Model manifest ${manifestFile} is not readable JSON: ${(e as Error).message}`);
  }
  const p = modelManifest.safeParse(raw);
  if (!p.success) throw new ModelError(`Model manifest ${manifestFile} is invalid: ${p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const file = path.resolve(path.dirname(manifestFile), p.data.file ?? `${p.data.id}.onnx`);
  return { manifest: p.data, file, origin, manifestFile };
}

export function sha256File(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Checks a model file against its manifest's SHA-256 (when it has one). */
export function verifyModel(e: ModelEntry): { ok: true } | { ok: false; reason: string } {
  if (!fs.existsSync(e.file)) return { ok: false, reason: `file missing: ${e.file}` };
  if (e.manifest.sha256) {
    const h = sha256File(e.file);
    if (h !== e.manifest.sha256) return { ok: false, reason: `file ${e.file} does not match its manifest (sha256 ${h.slice(0, 12)}… ≠ ${e.manifest.sha256.slice(0, 12)}…): corrupt or changed` };
  }
  return { ok: true };
}

/** Installs a user-supplied ONNX image model with its manifest into the user models folder. */
export function installUserModel(userDir: string, onnxFile: string, manifest: unknown): ModelEntry {
  const p = modelManifest.safeParse(manifest);
  if (!p.success) throw new ModelError(`Invalid model manifest: ${p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  if (!fs.existsSync(onnxFile)) throw new ModelError(`No such file: ${onnxFile}`);
  fs.mkdirSync(userDir, { recursive: true });
  const id = p.data.id;
  const dest = path.join(userDir, `${id}.onnx`);
  fs.copyFileSync(onnxFile, dest + '.tmp');
  fs.renameSync(dest + '.tmp', dest);
  const sha = sha256File(dest);
  if (p.data.sha256 && p.data.sha256 !== sha) { fs.rmSync(dest); throw new ModelError(`Model ${id}: file does not match the manifest's sha256`); }
  const mf = path.join(userDir, `${id}.json`);
  fs.writeFileSync(mf, JSON.stringify({ ...(manifest as object), file: `${id}.onnx`, sha256: sha }, null, 2));
  return readEntry(mf, 'user');
}
