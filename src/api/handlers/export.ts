import type { EngineContext, Handlers } from '../context.ts';
import type { ExportInfo, ExportMode, ExportPlan } from '../contract/export.ts';
import { ApiError } from '../errors.ts';
import { planExport, PlanError, type ExportOptions } from '../../export/plan.ts';
import { CopyWorkers, workerFs } from '../../export/copy.ts';
import { Checkpointer } from '../../store/checkpoint.ts';
import { ExportError, effectiveState, type RunSummary, type UndoSummary, getExport, listExports, runExport, undoExport } from '../../export/run.ts';

type K = 'export.plan' | 'export.run' | 'export.resume' | 'export.undo' | 'export.list';

function apiErr(e: unknown): never {
  if (e instanceof PlanError) throw new ApiError(e.message, 'bad_input');
  if (e instanceof ExportError) throw new ApiError(e.message, e.code);
  throw e;
}

export function exportHandlers(ctx: EngineContext): Handlers<K> {
  // this engine's copy workers (started by the first plan, so they are ready when it runs; closed with the engine)
  const workers = new CopyWorkers();
  const xfs = workerFs(workers);
  // WAL checkpoints in a worker thread while exports are planned and run (their fsync would stall the engine)
  const checkpoints = new Checkpointer(ctx.db, ctx.dbPath);
  ctx.onClose(() => Promise.all([workers.close(), checkpoints.close()]).then(() => undefined));
  const changed = (mode: string) => {
    ctx.emit({ type: 'exports.changed' });
    if (mode === 'move') ctx.emit({ type: 'library.changed' });
  };
  const plan = async (o: ExportOptions): Promise<ExportPlan> => {
    workers.warm();
    const release = checkpoints.hold();
    try { return await planExport(ctx.db, o, xfs); } catch (e) { return apiErr(e); } finally { release(); ctx.emit({ type: 'exports.changed' }); }
  };
  const run = async (exportId: number, jobId: string | undefined, kind: 'export' | 'export.undo') => {
    const mode = (() => { try { return getExport(ctx.db, exportId).mode; } catch (e) { return apiErr(e); } })();
    try {
      return await ctx.jobs.run<RunSummary | UndoSummary>(kind, jobId, (job) => {
        const env = { db: ctx.db, fs: xfs, signal: job.signal, progress: job.progress, checkpoints };
        return kind === 'export' ? runExport(env, exportId) : undoExport(env, exportId);
      });
    } catch (e) { return apiErr(e); } finally { changed(mode); }
  };
  return {
    'export.plan': (o) => plan(o),
    'export.run': async ({ exportId, options, jobId }) => {
      const id = exportId ?? (await plan(options!)).exportId;
      return run(id, jobId, 'export') as ReturnType<typeof runExport>;
    },
    'export.resume': ({ exportId, jobId }) => run(exportId, jobId, 'export') as ReturnType<typeof runExport>,
    'export.undo': ({ exportId, jobId }) => {
      let id = exportId;
      if (id === undefined) {
        const last = listExports(ctx.db).find((x) => !['planned', 'undone'].includes(effectiveState(ctx.db, x.row)));
        if (!last) throw new ApiError('There is no export to undo', 'not_found');
        id = last.row.id;
      }
      return run(id, jobId, 'export.undo') as ReturnType<typeof undoExport>;
    },
    'export.list': (): ExportInfo[] => listExports(ctx.db).map(({ row, counts }) => ({
      exportId: row.id, createdAt: row.created_at, finishedAt: row.finished_at, dest: row.dest, mode: row.mode as ExportMode,
      template: row.template, state: effectiveState(ctx.db, row), error: row.error, counts,
      plan: row.summary ? { exportId: row.id, ...JSON.parse(row.summary) } : null,
    })),
  };
}
