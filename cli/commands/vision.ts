import type { RegisterCommands } from '../context.ts';

export const registerVision: RegisterCommands = (_program, _ctx) => {
  // commands of the vision part
};
