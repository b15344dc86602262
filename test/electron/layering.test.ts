// Where each main/ file runs, checked mechanically (in the spirit of VS Code's code-layering rule):
//   main process      index.ts, engine-process.ts         may import electron; never the engine itself
//   utility process   engine-host.ts                      the engine facade; no electron module
//   sandboxed preload preload.ts                          electron + ipc-channels only (types aside)
//   pure              *-core.ts, ipc-channels.ts, engine-protocol.ts, protocol-deps.ts: no electron, testable in Node
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const mainDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'main');

/** Value (non-type) import specifiers of a TypeScript file. */
function valueImports(file: string): string[] {
  const src = fs.readFileSync(path.join(mainDir, file), 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/^\s*import\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]/gm)) {
    if (m[1]) continue; // import type ...
    const clause = m[2].replace(/[{}]/g, '').split(',').map((s) => s.trim()).filter(Boolean);
    if (clause.length > 0 && clause.every((c) => c.startsWith('type '))) continue; // import { type A, type B }
    out.push(m[3]);
  }
  for (const m of src.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) out.push(m[1]);
  for (const m of src.matchAll(/\b(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]);
  return out;
}

const pure = ['protocol-core.ts', 'ipc-core.ts', 'ipc-channels.ts', 'engine-protocol.ts', 'protocol-deps.ts'];

describe('main/ layering', () => {
  it('the parser sees value imports and skips type-only ones', () => {
    expect(valueImports('preload.ts')).toEqual(['electron', './ipc-channels.ts']);
  });

  it.each(pure)('%s is pure: no electron, no engine internals', (file) => {
    const imports = valueImports(file);
    expect(imports.filter((i) => i === 'electron' || i.startsWith('electron/'))).toEqual([]);
    expect(imports.filter((i) => i.startsWith('../src/') && !i.startsWith('../src/api/contract/'))).toEqual([]);
  });

  it('the sandboxed preload loads only electron and the channel names', () => {
    expect(new Set(valueImports('preload.ts'))).toEqual(new Set(['electron', './ipc-channels.ts']));
  });

  it('the engine runs only in the utility process: main never imports it', () => {
    for (const file of ['index.ts', 'engine-process.ts', ...pure]) {
      expect(valueImports(file).filter((i) => i.includes('src/api/engine')), file).toEqual([]);
    }
    expect(valueImports('engine-host.ts')).toContain('../src/api/engine.ts');
    expect(valueImports('engine-host.ts')).not.toContain('electron');
  });

  it('every main/ source file has a declared place', () => {
    const declared = new Set(['index.ts', 'engine-process.ts', 'engine-host.ts', 'preload.ts', ...pure]);
    const files = fs.readdirSync(mainDir).filter((f) => f.endsWith('.ts'));
    expect(files.filter((f) => !declared.has(f))).toEqual([]);
  });
});
