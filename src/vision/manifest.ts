// Model manifest: the small JSON file written beside each ONNX model (`<id>.json` next to `<id>.onnx`).
// The model build (scripts/build-models.ts) writes it; the vision runtime reads it with readManifest().
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const MANIFEST_FORMAT = 1;

export const modelInputSchema = z.object({
  /** ONNX graph input name */
  name: z.string().min(1),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  layout: z.enum(['NHWC', 'NCHW']),
  channels: z.literal(3),
  /** channel order of the input tensor */
  colorOrder: z.literal('RGB').default('RGB'),
  /** x' = x * scale + offset, applied to 0..255 RGB values (per channel when arrays of 3) */
  normalisation: z.object({
    scale: z.union([z.number(), z.tuple([z.number(), z.number(), z.number()])]),
    offset: z.union([z.number(), z.tuple([z.number(), z.number(), z.number()])]),
  }),
  dtype: z.literal('float32'),
  /** how an image of another aspect ratio should be fitted (advice to the runtime) */
  resize: z.enum(['stretch', 'letterbox', 'center-crop', 'any']).default('any'),
  /** the batch dimension is symbolic (any batch size) when true, fixed to 1 when false */
  dynamicBatch: z.boolean().default(true),
});

export const modelOutputSchema = z.object({
  /** ONNX graph output name */
  name: z.string().min(1),
  /** length of the per-image vector (output shape is [batch, dim]) */
  dim: z.number().int().positive(),
  kind: z.enum(['embedding', 'scores']),
  /** one label per element, for kind 'scores' (e.g. the 80 COCO class names) */
  labels: z.array(z.string()).optional(),
  /** free text: what this output is */
  description: z.string().optional(),
}).refine((o) => !o.labels || o.labels.length === o.dim, { message: 'labels must have one entry per dimension' });

export const modelManifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT).default(MANIFEST_FORMAT),
  /** stable model id, also the file stem: `<id>.onnx`, `<id>.json` */
  id: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/),
  /** version of this converted model; changes whenever its outputs may change */
  version: z.string().min(1),
  /** where the weights came from, e.g. `nsfwjs@4.3.0` */
  source: z.string().min(1),
  licence: z.string().optional(),
  /** file name of the ONNX model, relative to the manifest's directory */
  file: z.string().min(1),
  /** sha256 (hex) of the ONNX file */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative().optional(),
  opset: z.number().int().positive().optional(),
  input: modelInputSchema,
  outputs: z.array(modelOutputSchema).min(1),
  /** fingerprint of the source files the model was built from (used to skip rebuilding) */
  sourceSha256: z.string().optional(),
  notes: z.string().optional(),
});

export type ModelInput = z.infer<typeof modelInputSchema>;
export type ModelOutput = z.infer<typeof modelOutputSchema>;
export type ModelManifest = z.infer<typeof modelManifestSchema>;
/** what a writer passes in (defaults may be omitted) */
export type ModelManifestInput = z.input<typeof modelManifestSchema>;

export class ModelFileError extends Error {
  constructor(message: string, readonly code: 'missing' | 'invalid-manifest' | 'corrupt') {
    super(message);
    this.name = 'ModelFileError';
  }
}

export function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export function manifestPath(dir: string, id: string): string {
  return path.join(dir, `${id}.json`);
}

/** Parse and validate a manifest object (no file checks). */
export function parseManifest(value: unknown, where = 'manifest'): ModelManifest {
  const r = modelManifestSchema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ModelFileError(`${where} is not a valid model manifest: ${issues}`, 'invalid-manifest');
  }
  return r.data;
}

export interface ReadManifestOptions {
  /** check the ONNX file's sha256 against the manifest (default true) */
  verify?: boolean;
}

/**
 * Read `<dir>/<id>.json`, validate it and check that the ONNX file it names exists and has the recorded sha256.
 * Throws ModelFileError with a message that says which file is wrong and how to fix it.
 */
export function readManifest(dir: string, id: string, opts: ReadManifestOptions = {}): ModelManifest & { path: string; modelPath: string } {
  const mpath = manifestPath(dir, id);
  const hint = 'run `npm run build:models` (or reinstall) to rebuild the default models';
  if (!fs.existsSync(mpath)) throw new ModelFileError(`model "${id}": manifest ${mpath} is missing; ${hint}`, 'missing');
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(mpath, 'utf8'));
  } catch (e) {
    throw new ModelFileError(`model "${id}": manifest ${mpath} is not valid JSON (${(e as Error).message}); ${hint}`, 'invalid-manifest');
  }
  const m = parseManifest(raw, `model "${id}": ${mpath}`);
  if (m.id !== id) throw new ModelFileError(`model "${id}": manifest ${mpath} describes model "${m.id}"`, 'invalid-manifest');
  const modelPath = path.resolve(dir, m.file);
  if (!fs.existsSync(modelPath)) throw new ModelFileError(`model "${id}": ONNX file ${modelPath} is missing; ${hint}`, 'missing');
  if (opts.verify !== false) {
    const sha = sha256File(modelPath);
    if (sha !== m.sha256) {
      throw new ModelFileError(`model "${id}": ONNX file ${modelPath} is corrupt or was changed (sha256 ${sha.slice(0, 12)}…, manifest expects ${m.sha256.slice(0, 12)}…); ${hint}`, 'corrupt');
    }
  }
  return { ...m, path: mpath, modelPath };
}

/** Write a manifest (validated) as pretty JSON. */
export function writeManifest(dir: string, manifest: ModelManifestInput): ModelManifest {
  const m = parseManifest(manifest);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = manifestPath(dir, m.id) + '.tmp';
  fs.writeFileSync(tmp, JSON.stringify(m, null, 2) + '\n');
  fs.renameSync(tmp, manifestPath(dir, m.id));
  return m;
}
