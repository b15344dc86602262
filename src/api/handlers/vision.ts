import type { EngineContext, Handlers } from '../context.ts';
import { ApiError } from '../errors.ts';
import { VisionService, NotFound } from '../../vision/service.ts';
import { ModelError } from '../../vision/registry.ts';
import { ModelFileError } from '../../vision/manifest.ts';
import { DownloadError } from '../../vision/download.ts';

type K = 'vision.status' | 'vision.models' | 'vision.similar' | 'vision.embed' | 'vision.setModelSet' | 'vision.addModel'
  | 'vision.downloadModel' | 'vision.tags' | 'vision.exportEmbeddings';

/** Caller-visible errors (missing/corrupt model, unknown photo, bad download) become ApiErrors with their message. */
function api<A extends unknown[], R>(fn: (...a: A) => R): (...a: A) => R {
  const wrap = (e: unknown): never => {
    if (e instanceof NotFound) throw new ApiError(e.message, 'not_found');
    if (e instanceof ModelError || e instanceof ModelFileError || e instanceof DownloadError) throw new ApiError(e.message, 'conflict');
    throw e;
  };
  return (...a: A) => {
    try {
      const r = fn(...a);
      return (r instanceof Promise ? r.catch(wrap) : r) as R;
    } catch (e) { return wrap(e); }
  };
}

export function visionHandlers(ctx: EngineContext): Handlers<K> {
  const svc = new VisionService(ctx.db, ctx.modelsDir, ctx.dataDir, ctx.jobs, () => ctx.emit({ type: 'embeddings.changed' }));
  ctx.stages.push(svc.rt.stage());
  ctx.onClose(() => svc.rt.close());
  return {
    'vision.status': api(() => svc.status()),
    'vision.models': api(() => svc.models()),
    'vision.similar': api((q) => svc.similar(q)),
    'vision.embed': api((q) => svc.embed(q.jobId)),
    'vision.setModelSet': api((q) => svc.setModelSet(q.id, q.background)),
    'vision.addModel': api((q) => svc.addModel(q.file, q.manifest)),
    'vision.downloadModel': api((q) => svc.downloadModel(q)),
    'vision.tags': api((q) => svc.tags(q.photoIds, q.limit)),
    'vision.exportEmbeddings': api((q) => svc.exportEmbeddings(q.out, q.modelSet)),
  };
}
