import type { EngineContext, Handlers } from '../context.ts';

export function jobsHandlers(ctx: EngineContext): Handlers<'jobs.list' | 'jobs.cancel'> {
  return {
    'jobs.list': () => ctx.jobs.list(),
    'jobs.cancel': ({ jobId }) => ({ cancelled: ctx.jobs.cancel(jobId) }),
  };
}
