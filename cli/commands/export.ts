// CLI commands of the export part: `sift export` (plan, run, --dry-run, --resume, --undo) and `sift exports`.
import { randomUUID } from 'node:crypto';
import { EXIT_SOME_FAILED, UsageError, type RegisterCommands } from '../context.ts';
import type { ExportPlan, ExportRunSummary, ExportUndoSummary, SiftEvent } from '../../src/api/engine.ts';

const MODES = ['copy', 'hardlink', 'symlink', 'move'];

function mb(n: number): string {
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

function progressPrinter(): (e: SiftEvent) => void {
  let last = 0;
  return (e) => {
    if (e.type !== 'job.progress' || !e.kind.startsWith('export') || !process.stderr.isTTY) return;
    const now = Date.now();
    if (now - last < 200 && e.done < e.total) return;
    last = now;
    const eta = e.etaSeconds != null ? ` ETA ${Math.round(e.etaSeconds)}s` : '';
    process.stderr.write(`\r${e.phase} ${e.done}/${e.total} (${e.rate.toFixed(1)}/s${eta})${e.failed ? `, ${e.failed} failed` : ''}   ${e.done >= e.total ? '\n' : ''}`);
  };
}

function parseId(v: string, flag: string): number {
  if (!/^\d+$/.test(v)) throw new UsageError(`${flag} needs an export id (see \`sift exports\`), got "${v}"`);
  return Number(v);
}

export const registerExport: RegisterCommands = (program, ctx) => {
  const printPlan = (p: ExportPlan) => {
    ctx.out(`Plan #${p.exportId}: ${p.mode} ${p.photos} photos (${p.placements} placements, ${p.files} files incl. ${p.sidecars} sidecars${p.keywordFiles ? `, ${p.keywordFiles} keyword XMP` : ''}) to ${p.dest}`);
    ctx.out(`  template ${p.template}; unlabeled: ${p.unlabeled}; bytes to write: ${mb(p.bytesToWrite)}${p.freeBytes != null ? ` (free: ${mb(p.freeBytes)})` : ''}`);
    for (const f of p.folders) ctx.out(`  ${String(f.photos).padStart(6)}  ${f.folder}${f.bytes ? `  (${mb(f.bytes)})` : ''}`);
    if (p.identical) ctx.out(`  ${p.identical} already there with identical content: skipped`);
    if (p.renamed) ctx.out(`  ${p.renamed} get a numbered name: a different file has their name`);
    for (const c of p.conflicts.filter((x) => x.kind !== 'identical').slice(0, 20)) ctx.out(`  ${c.kind}: ${c.src ?? ''} -> ${c.dst}: ${c.detail}`);
    if (p.skippedTotal) {
      ctx.out(`  ${p.skippedTotal} photo(s) not exported:`);
      for (const s of p.skipped.slice(0, 20)) ctx.out(`    ${s.path}: ${s.reason}`);
      if (p.skippedTotal > 20) ctx.out(`    ... (${p.skippedTotal - 20} more; --json lists up to 1000)`);
    }
    for (const w of p.warnings) ctx.out(`  warning: ${w}`);
  };
  const printRun = (r: ExportRunSummary) => {
    ctx.out(`Export #${r.exportId} ${r.state}: ${r.created} created, ${r.moved} moved, ${r.identical} identical skipped, ${r.renamed} renamed, ${r.failedTotal} failed, ${mb(r.bytesWritten)} written in ${r.seconds.toFixed(1)} s`);
    for (const f of r.failed.slice(0, 20)) ctx.out(`  failed: ${f.src ?? ''} -> ${f.dst ?? ''}: ${f.error}`);
    for (const w of r.warnings ?? []) ctx.out(`  warning: ${w}`);
    if (r.error) ctx.out(`  stopped: ${r.error}`);
    if (r.pending) ctx.out(`  ${r.pending} file(s) not done yet: \`sift export --resume ${r.exportId}\` continues, \`sift export --undo ${r.exportId}\` reverts`);
    else if (r.failedTotal) ctx.out(`  \`sift export --resume ${r.exportId}\` retries the failed file(s), \`sift export --undo ${r.exportId}\` reverts`);
    if (r.failedTotal || r.state !== 'done') ctx.exit(EXIT_SOME_FAILED);
  };
  const printUndo = (u: ExportUndoSummary) => {
    ctx.out(`Undo of export #${u.exportId}: ${u.state}: ${u.removed} removed, ${u.movedBack} moved back, ${u.kept.length} kept, ${u.failed.length} failed`);
    for (const k of u.kept.slice(0, 50)) ctx.out(`  kept: ${k.path}: ${k.reason}`);
    for (const f of u.failed.slice(0, 50)) ctx.out(`  failed: ${f.path}: ${f.error}`);
    if (u.failed.length || u.state !== 'undone') ctx.exit(EXIT_SOME_FAILED);
  };

  program.command('export')
    .description('export the library into sorted folders (copy by default); plan first with --dry-run')
    .option('--to <dir>', 'destination folder')
    .option('--mode <mode>', `copy | hardlink | symlink | move`, 'copy')
    .option('--template <t>', 'folder template: {label} {yyyy} {mm} {dd} {camera} {name} {ext}', '{label}')
    .option('--unlabeled <what>', 'skip | folder (put unlabeled photos in "Unsorted")', 'folder')
    .option('--unsorted-name <name>', 'folder name for unlabeled photos', 'Unsorted')
    .option('--keywords', 'also write the labels as XMP dc:subject keywords into <file>.xmp sidecars')
    .option('--dry-run', 'only show the plan: nothing on disk changes')
    .option('--resume <id>', 'continue an interrupted, cancelled or failed export')
    .option('--undo [id]', 'undo an export (default: the last one)')
    .option('--json', 'JSON output')
    .action(async (o: { to?: string; mode: string; template: string; unlabeled: string; unsortedName: string; keywords?: boolean; dryRun?: boolean; resume?: string; undo?: string | boolean; json?: boolean }) => {
      const actions = [o.to !== undefined, o.resume !== undefined, o.undo !== undefined].filter(Boolean).length;
      if (actions !== 1) throw new UsageError('give exactly one of --to DIR, --resume ID, --undo [ID]');
      if (!MODES.includes(o.mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')}, got "${o.mode}"`);
      if (o.unlabeled !== 'skip' && o.unlabeled !== 'folder') throw new UsageError(`--unlabeled must be skip or folder, got "${o.unlabeled}"`);
      const engine = ctx.engine();
      const jobId = randomUUID();
      const off = engine.onEvent(progressPrinter());
      const onSigint = () => { process.stderr.write('\ncancelling (the export stays resumable)...\n'); void engine.call('jobs.cancel', { jobId }); };
      process.once('SIGINT', onSigint);
      try {
        if (o.undo !== undefined) {
          const u = await engine.call('export.undo', { exportId: typeof o.undo === 'string' ? parseId(o.undo, '--undo') : undefined, jobId });
          return o.json ? (ctx.json(u), void (u.failed.length && ctx.exit(EXIT_SOME_FAILED))) : printUndo(u);
        }
        if (o.resume !== undefined) {
          const r = await engine.call('export.resume', { exportId: parseId(o.resume, '--resume'), jobId });
          return o.json ? (ctx.json(r), void ((r.failedTotal || r.state !== 'done') && ctx.exit(EXIT_SOME_FAILED))) : printRun(r);
        }
        const plan = await engine.call('export.plan', {
          to: o.to!, mode: o.mode as 'copy', template: o.template, unlabeled: o.unlabeled as 'skip', unsortedName: o.unsortedName, keywords: !!o.keywords,
        });
        if (o.dryRun) return o.json ? ctx.json(plan) : printPlan(plan);
        if (!o.json) printPlan(plan);
        const r = await engine.call('export.run', { exportId: plan.exportId, jobId });
        if (o.json) { ctx.json({ plan, result: r }); if (r.failedTotal || r.state !== 'done') ctx.exit(EXIT_SOME_FAILED); return; }
        printRun(r);
      } finally {
        off();
        process.off('SIGINT', onSigint);
      }
    });

  program.command('exports')
    .description('list exports (id, state, destination) for --resume / --undo')
    .option('--json', 'JSON output')
    .action(async (o: { json?: boolean }) => {
      const list = await ctx.engine().call('export.list', {});
      if (o.json) return ctx.json(list);
      if (!list.length) return ctx.out('no exports yet');
      for (const x of list) {
        const counts = Object.entries(x.counts).map(([k, v]) => `${v} ${k}`).join(', ');
        ctx.out(`#${x.exportId}  ${new Date(x.createdAt).toISOString().slice(0, 19).replace('T', ' ')}  ${x.state.padEnd(16)} ${x.mode.padEnd(8)} ${x.dest}  [${counts}]${x.error ? `  error: ${x.error}` : ''}`);
      }
    });
};
