import type { RegisterCommands } from '../context.ts';

export const registerExport: RegisterCommands = (_program, _ctx) => {
  // commands of the export part
};
