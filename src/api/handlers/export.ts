import type { EngineContext, Handlers } from '../context.ts';

export function exportHandlers(_ctx: EngineContext): Handlers<'export.list'> {
  return { 'export.list': () => [] };
}
