import type { Command } from 'commander';
import type { Engine } from '../src/api/engine.ts';

/** Exit codes: 0 all good, 1 finished but something failed, 2 usage error. */
export const EXIT_OK = 0;
export const EXIT_SOME_FAILED = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {}

export interface CliContext {
  /** Opens the engine on the --db database (once). */
  engine(): Engine;
  /** Set the process exit code (the highest wins). */
  exit(code: number): void;
  out(line: string): void;
  json(value: unknown): void;
}

export type RegisterCommands = (program: Command, ctx: CliContext) => void;
