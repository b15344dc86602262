import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { IndexSummary, JobProgress, Photo } from '../../src/api/engine.ts';
import { EXIT_SOME_FAILED, UsageError, type CliContext, type RegisterCommands } from '../context.ts';

function fmtSecs(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

export function printSummary(ctx: CliContext, s: IndexSummary): void {
  ctx.out(`${s.cancelled ? 'Cancelled' : 'Done'} in ${s.seconds.toFixed(1)}s: ${s.found} found, ${s.added} new, ${s.unchanged} unchanged, ` +
    `${s.updated} updated, ${s.moved} moved, ${s.missing} missing, ${s.duplicates} duplicates, ${s.failed.length} failed` +
    (s.offline ? `, ${s.offline} offline (folder not reachable: left as they are)` : ''));
  for (const st of s.stages) {
    ctx.out(`  stage ${st.id}: ${st.skipped ? `skipped (${st.skipped})` : `${st.done} done, ${st.failed} failed`}`);
  }
  if (s.warnings.length) {
    ctx.out(`Damaged but indexed (${s.warnings.length}):`);
    for (const w of s.warnings) ctx.out(`  ${w.path}: ${w.warning}`);
  }
  if (s.failed.length) {
    ctx.out(`Failed (${s.failed.length}):`);
    for (const f of s.failed) ctx.out(`  ${f.path}: ${f.error}`);
  }
}

export const registerLibrary: RegisterCommands = (program: Command, ctx: CliContext) => {
  program.command('index')
    .description('index photo folders (added to the library if new); without folders, rescan every library folder')
    .argument('[folders...]', 'folders to index')
    .option('--no-embed', 'do not run the per-photo stages (embeddings) after the thumbnails')
    .option('--json', 'print the summary as JSON')
    .option('--max-pixels <n>', 'images above this many pixels fail (decompression-bomb guard)')
    .action(async (folders: string[], opts: { embed: boolean; json?: boolean; maxPixels?: string }) => {
      const engine = ctx.engine();
      let maxPixels: number | undefined;
      if (opts.maxPixels !== undefined) {
        maxPixels = Number(opts.maxPixels);
        if (!Number.isInteger(maxPixels) || maxPixels < 1) throw new UsageError(`--max-pixels must be a positive integer, not ${opts.maxPixels}`);
      }
      if (!folders.length && engine.ctx && (await engine.call('library.status', {})).roots.length === 0) {
        throw new UsageError('no folder given and no library folders yet: sift index <folder...>');
      }
      const tty = process.stderr.isTTY && !opts.json;
      const bar = tty ? new cliProgress.SingleBar({
        format: '{phase} [{bar}] {value}/{total} | {failed} failed | {rate}/s | ETA {eta_s}',
        hideCursor: true, stream: process.stderr,
      }, cliProgress.Presets.shades_classic) : null;
      let phase = '';
      let lastLine = 0;
      const off = engine.onEvent((e) => {
        if (e.type !== 'job.progress' || e.kind !== 'index') return;
        const p = e as JobProgress;
        const payload = { phase: p.phase.padEnd(8), failed: p.failed, rate: p.rate.toFixed(1), eta_s: fmtSecs(p.etaSeconds) };
        if (bar) {
          if (p.phase !== phase) { if (phase) bar.stop(); bar.start(Math.max(p.total, 1), p.done, payload); phase = p.phase; }
          bar.setTotal(Math.max(p.total, 1));
          bar.update(p.done, payload);
        } else if (!opts.json) {
          const now = Date.now();
          if (p.phase !== phase || now - lastLine > 2000 || p.done === p.total) {
            phase = p.phase;
            lastLine = now;
            process.stderr.write(`${p.phase}: ${p.done}/${p.total}, ${p.failed} failed, ${p.rate.toFixed(1)}/s, ETA ${fmtSecs(p.etaSeconds)}\n`);
          }
        }
      });
      const onSig = () => { for (const j of engine.ctx.jobs.list()) engine.ctx.jobs.cancel(j.jobId); };
      process.once('SIGINT', onSig);
      let s: IndexSummary;
      try {
        s = await engine.call('library.index', { roots: folders.length ? folders : undefined, stages: opts.embed, maxPixels });
      } finally {
        bar?.stop();
        off();
        process.off('SIGINT', onSig);
      }
      if (opts.json) ctx.json(s);
      else printSummary(ctx, s);
      if (s.failed.length || s.cancelled) ctx.exit(EXIT_SOME_FAILED);
    });

  program.command('status')
    .description('library folders and photo counts')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const st = await ctx.engine().call('library.status', {});
      if (opts.json) { ctx.json(st); return; }
      ctx.out(`Database: ${st.dbPath}`);
      ctx.out(`Folders (${st.roots.length}):`);
      for (const r of st.roots) ctx.out(`  ${r.path}  (${r.photos} photos)${r.offline ? `  NOT REACHABLE: ${r.offline}` : ''}`);
      ctx.out(`Photos: ${st.photos} (${st.ok} ok, ${st.duplicates} duplicates, ${st.missing} missing, ${st.failed} failed, ${st.pending} pending` +
        `${st.offline ? `, ${st.offline} offline` : ''})`);
    });

  program.command('photos')
    .description('list indexed photos')
    .option('--json', 'a JSON array, one photo object per line')
    .option('--status <status>', 'ok | missing | failed | pending | all', 'all')
    .option('--limit <n>', 'at most n photos')
    .action(async (opts: { json?: boolean; status: string; limit?: string }) => {
      if (!['ok', 'missing', 'failed', 'pending', 'all'].includes(opts.status)) throw new UsageError(`--status must be ok, missing, failed, pending or all, not ${opts.status}`);
      let limit: number | undefined;
      if (opts.limit !== undefined) {
        limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive integer, not ${opts.limit}`);
      }
      const engine = ctx.engine();
      const page = 5000;
      let offset = 0;
      if (opts.json) process.stdout.write('[');
      for (;;) {
        const n = limit === undefined ? page : Math.min(page, limit - offset);
        if (n <= 0) break;
        const photos: Photo[] = await engine.call('library.photos', { status: opts.status as 'all', offset, limit: n });
        for (const p of photos) {
          if (opts.json) process.stdout.write((offset === 0 && p === photos[0] ? '\n' : ',\n') + JSON.stringify(p));
          else ctx.out(`${String(p.id).padStart(6)}  ${p.status.padEnd(7)}  ${p.width ?? '-'}x${p.height ?? '-'}  ${p.takenAt ?? '-'.padEnd(19)}  ${p.path}${p.error ? `  (${p.error})` : ''}${p.duplicateOf ? `  (duplicate of ${p.duplicateOf})` : ''}`);
        }
        offset += photos.length;
        if (photos.length < n) break;
      }
      if (opts.json) process.stdout.write('\n]\n');
    });
};
