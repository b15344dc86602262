import type { RegisterCommands } from '../context.ts';

export const registerLibrary: RegisterCommands = (_program, _ctx) => {
  // commands of the library part
};
