import type { RegisterCommands } from '../context.ts';

export const registerLearn: RegisterCommands = (_program, _ctx) => {
  // commands of the learn part
};
