import type { EngineContext, Handlers } from '../context.ts';

export function visionHandlers(ctx: EngineContext): Handlers<'vision.status'> {
  return {
    'vision.status': () => {
      const embedded = (ctx.db.prepare('SELECT count(*) AS n FROM embeddings').get() as { n: number }).n;
      return { modelSet: null, embedded, pending: 0 };
    },
  };
}
