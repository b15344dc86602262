import type { EngineContext, Handlers } from '../context.ts';
import { LearnService } from '../../learn/service.ts';

type K = 'learn.labels' | 'learn.cluster' | 'learn.clusters' | 'learn.clusterPhotos' | 'learn.photoLabels' | 'learn.photos' | 'learn.createLabel' | 'learn.renameLabel'
  | 'learn.mergeLabels' | 'learn.deleteLabel' | 'learn.label' | 'learn.confirm' | 'learn.reject' | 'learn.split'
  | 'learn.mergeClusters' | 'learn.suggestions' | 'learn.undo' | 'learn.redo' | 'learn.journal';

/** The learn service of an engine context (one per engine; holds the worker pool and the current model). */
const services = new WeakMap<EngineContext, LearnService>();
export function learnService(ctx: EngineContext): LearnService {
  let s = services.get(ctx);
  if (!s) {
    s = new LearnService({ db: ctx.db, emit: (e) => ctx.emit(e) });
    services.set(ctx, s);
    // the worker pool goes when the engine closes
    const svc = s;
    ctx.onClose(() => svc.close());
    // embeddings or photos changed in this engine: the learn part re-checks its cached features
    ctx.onEvent((e) => {
      if (e.type === 'embeddings.changed' || e.type === 'library.changed') svc.invalidate();
    });
  }
  return s;
}

export function learnHandlers(ctx: EngineContext): Handlers<K> {
  const s = () => learnService(ctx);
  return {
    'learn.labels': () => s().labels(),
    'learn.cluster': (i) => s().cluster(i),
    'learn.clusters': (i) => s().clusters(i.includeNamed),
    'learn.clusterPhotos': (i) => s().clusterPhotos(i.id, i.offset, i.limit),
    'learn.photoLabels': (i) => s().photoLabels(i.photos),
    'learn.photos': (i) => s().photos(i.filter, i.label, i.offset, i.limit),
    'learn.createLabel': (i) => s().createLabel(i.name),
    'learn.renameLabel': (i) => s().renameLabel(i.label, i.name),
    'learn.mergeLabels': (i) => s().mergeLabels(i.from, i.into),
    'learn.deleteLabel': (i) => s().deleteLabel(i.label),
    'learn.label': (i) => s().label(i.name, i.clusters, i.photos),
    'learn.confirm': (i) => s().confirm(i.label, i.photos),
    'learn.reject': (i) => s().reject(i.label, i.photos),
    'learn.split': (i) => s().split(i.photos, i.name),
    'learn.mergeClusters': (i) => s().mergeClusters(i.from, i.into),
    'learn.suggestions': (i) => s().suggestions(i.label, i.offset, i.limit),
    'learn.undo': () => s().undo(),
    'learn.redo': () => s().redo(),
    'learn.journal': (i) => s().journal(i.limit),
  };
}
