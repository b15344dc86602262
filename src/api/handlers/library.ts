import type { EngineContext, Handlers } from '../context.ts';
import { indexLibrary } from '../../library/indexer.ts';
import { addRoot, removeRoot, rootInfo, libraryStatus, queryPhotos, getPhoto, resolveFolder } from '../../library/roots.ts';
import { ApiError } from '../errors.ts';

type K = 'library.addRoot' | 'library.removeRoot' | 'library.status' | 'library.index' | 'library.photos' | 'library.photo';

export function libraryHandlers(ctx: EngineContext): Handlers<K> {
  return {
    'library.addRoot': ({ path }) => {
      const r = rootInfo(ctx.db, addRoot(ctx.db, path));
      ctx.emit({ type: 'library.changed' });
      return r;
    },
    'library.removeRoot': ({ path }) => {
      const r = removeRoot(ctx.db, path);
      if (r.removed) ctx.emit({ type: 'library.changed' });
      return r;
    },
    'library.status': () => libraryStatus(ctx.db, ctx.dbPath),
    'library.index': async ({ roots, jobId, stages, maxPixels }) => {
      // check every folder before starting: a typo is a caller mistake, not a half-done scan
      for (const r of roots ?? []) resolveFolder(r);
      if (ctx.jobs.list().some((j) => j.kind === 'index')) throw new ApiError('An index is already running: wait for it or cancel it first.', 'conflict');
      if (!roots?.length && libraryStatus(ctx.db, ctx.dbPath).roots.length === 0) {
        throw new ApiError('No library folders yet: give a folder to index (or add one first).');
      }
      try {
        return await ctx.jobs.run('index', jobId, (job) => indexLibrary(ctx, job, { roots, stages, maxPixels }));
      } finally {
        ctx.emit({ type: 'library.changed' });
      }
    },
    'library.photos': (q) => queryPhotos(ctx.db, ctx.thumbsDir, q),
    'library.photo': ({ id }) => getPhoto(ctx.db, ctx.thumbsDir, id),
  };
}
