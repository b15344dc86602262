import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { Engine, type SiftEvent } from '../../src/api/engine.ts';

export const tmpDir = (prefix = 'sift-lib-') => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

/** A real engine on a fresh database, with no per-photo stages (tests add fake ones). */
export function newEngine(dir = tmpDir()): { engine: Engine; dir: string; events: SiftEvent[] } {
  const engine = new Engine({ dbPath: path.join(dir, 'db', 'sift.db') });
  engine.ctx.stages.length = 0;
  const events: SiftEvent[] = [];
  engine.onEvent((e) => events.push(e));
  return { engine, dir, events };
}

/**
 * Per-test engines with a photos folder, closed after each test: call `const setup = engineSetup()` at the
 * top of a test file, then `setup()` in each test.
 */
export function engineSetup(): () => { engine: Engine; dir: string; events: SiftEvent[]; lib: string } {
  const engines: Engine[] = [];
  afterEach(() => { while (engines.length) engines.pop()!.close(); });
  return () => {
    const e = newEngine();
    engines.push(e.engine);
    const lib = path.join(e.dir, 'photos');
    fs.mkdirSync(lib, { recursive: true });
    return { ...e, lib };
  };
}
