import type { EngineContext, Handlers } from '../context.ts';

export function learnHandlers(_ctx: EngineContext): Handlers<'learn.labels'> {
  return { 'learn.labels': () => [] };
}
