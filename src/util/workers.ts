// Worker pools (piscina) for CPU-heavy work: decoding, hashing, inference, clustering.
// Worker files are TypeScript in the source tree (run through tsx) and JavaScript when bundled.
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';

export interface PoolOptions {
  /** Threads; default: one per core. */
  threads?: number;
  /** Tasks queued per thread before run() waits (back-pressure). */
  idleTimeout?: number;
  resourceLimits?: { maxOldGenerationSizeMb?: number };
}

export function cores(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

/** A pool running the default export (or named export `name`) of `workerFile` (a file: URL). */
export function createPool(workerFile: URL, opts: PoolOptions = {}): Piscina {
  const filename = fileURLToPath(workerFile);
  const threads = opts.threads ?? cores();
  const inherited = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  // add tsx unless already there (do not dedupe flags: `--conditions a --conditions b` must stay pairs)
  // tsx by absolute URL: a bare 'tsx' resolves from the cwd, so workers failed to start when run outside the repo
  // (only for .ts workers: bundled .js workers must not need tsx in a packaged app)
  let execArgv = inherited;
  if (filename.endsWith('.ts')) {
    const tsxUrl = import.meta.resolve('tsx');
    const hasTsx = inherited.some((a, i) => a === '--import' && (inherited[i + 1] === 'tsx' || inherited[i + 1] === tsxUrl));
    if (!hasTsx) execArgv = [...inherited, '--import', tsxUrl];
  }
  return new Piscina({
    filename,
    minThreads: Math.min(1, threads),
    maxThreads: threads,
    idleTimeout: opts.idleTimeout ?? 30_000,
    execArgv,
    resourceLimits: opts.resourceLimits,
  });
}
