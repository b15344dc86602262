// The `sift` CLI host: parses arguments, opens the engine facade, prints results.
import { Command, CommanderError } from 'commander';
import { ApiError, Engine } from '../src/api/engine.ts';
import { EXIT_USAGE, UsageError, type CliContext } from './context.ts';
import { defaultDbPath } from './paths.ts';
import { registerLibrary } from './commands/library.ts';
import { registerVision } from './commands/vision.ts';
import { registerLearn } from './commands/learn.ts';
import { registerExport } from './commands/export.ts';

export async function runCli(argv: string[]): Promise<number> {
  let engine: Engine | undefined;
  let code = 0;
  const program = new Command('sift')
    .description('Sift: sort your photos offline by learned visual features')
    .option('--db <path>', 'database file (default: $SIFT_DB or sift.db in your data directory)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const ctx: CliContext = {
    engine() {
      engine ??= new Engine({ dbPath: program.opts().db ?? defaultDbPath() });
      return engine;
    },
    exit(c) { code = Math.max(code, c); },
    out(line) { process.stdout.write(line + '\n'); },
    json(value) { process.stdout.write(JSON.stringify(value, null, 2) + '\n'); },
  };

  registerLibrary(program, ctx);
  registerVision(program, ctx);
  registerLearn(program, ctx);
  registerExport(program, ctx);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return EXIT_USAGE;
    }
    if (err instanceof UsageError || err instanceof ApiError) {
      process.stderr.write(`sift: ${err.message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`sift: ${(err as Error)?.stack ?? err}\n`);
    return EXIT_USAGE;
  } finally {
    await engine?.close();
  }
  return code;
}

if (process.argv[1] && /sift(\.mjs)?$|cli[\\/]main\.ts$/.test(process.argv[1])) {
  runCli(process.argv.slice(2)).then((c) => { process.exitCode = c; });
}
