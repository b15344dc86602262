// CLI of the learning loop. Ids: a cluster is written `c<id>` (e.g. c12), a photo is a bare number (12).
import type { Command } from 'commander';
import { UsageError, type CliContext, type RegisterCommands } from '../context.ts';
import type { ChangeResult, ClusterInfo, LabelInfo, Suggestion } from '../../src/api/engine.ts';

/** Splits `c12 c3 45 46` into cluster ids [12, 3] and photo ids [45, 46]; anything else is a usage error. */
export function parseTargets(args: string[]): { clusters: number[]; photos: number[] } {
  const clusters: number[] = [], photos: number[] = [];
  for (const a of args) {
    const m = /^(c?)(\d+)$/i.exec(a.trim());
    if (!m) throw new UsageError(`"${a}" is neither a cluster id (c12) nor a photo id (12)`);
    (m[1] ? clusters : photos).push(Number(m[2]));
  }
  return { clusters, photos };
}

function photoIds(args: string[]): number[] {
  const { clusters, photos } = parseTargets(args);
  if (clusters.length) throw new UsageError('expected photo ids (numbers), not clusters');
  return photos;
}

function labelRef(s: string): string | number { return s; }

function changeLine(ctx: CliContext, r: ChangeResult): void {
  if (!r.entry) ctx.out('nothing changed');
  else ctx.out(`${r.entry.summary} (${r.changed} photo(s) changed; "sift undo" reverts it)`);
}

const pad = (s: string | number, n: number) => String(s).padEnd(n);

export const registerLearn: RegisterCommands = (program: Command, ctx: CliContext) => {
  program.command('cluster')
    .description('cluster the photos that have an embedding and no label (ids are kept across re-runs)')
    .option('--min-size <n>', 'smallest cluster (default: about 1% of the sample)')
    .option('--json', 'print JSON')
    .action(async (o: { minSize?: string; json?: boolean }) => {
      const r = await ctx.engine().call('learn.cluster', { minClusterSize: o.minSize ? Number(o.minSize) : undefined });
      if (o.json) return ctx.json(r);
      ctx.out(`${r.photos} unlabeled photo(s) -> ${r.clusters} cluster(s), ${r.unclustered} unclustered (${r.kept} id(s) kept) in ${r.seconds.toFixed(1)} s`);
    });

  program.command('clusters')
    .description('list clusters: unnamed first (largest and tightest first), then named ones')
    .option('--json', 'print JSON (ClusterList, see README, learning loop)')
    .action(async (o: { json?: boolean }) => {
      const r = await ctx.engine().call('learn.clusters', {});
      if (o.json) return ctx.json(r);
      if (!r.clusters.length) ctx.out('no clusters (run "sift cluster")');
      for (const c of r.clusters as ClusterInfo[]) {
        ctx.out(`${pad(`c${c.id}`, 6)} ${pad(c.size, 6)} photos  cohesion ${c.cohesion.toFixed(2)}  ${c.label ? `label: ${c.label.name}` : `unlabeled: ${c.unlabeled}`}${c.suggestedName ? `  suggested: ${c.suggestedName}` : ''}  e.g. ${c.representatives.slice(0, 5).join(' ')}`);
      }
      ctx.out(`${r.unclustered} unclustered photo(s)`);
    });

  program.command('label <name> <targets...>')
    .description('give a label: c<id> names a cluster (its photos get the label), a number confirms that photo')
    .option('--json', 'print JSON')
    .action(async (name: string, targets: string[], o: { json?: boolean }) => {
      const { clusters, photos } = parseTargets(targets);
      const r = await ctx.engine().call('learn.label', { name, clusters, photos });
      if (o.json) return ctx.json(r);
      changeLine(ctx, r);
    });

  program.command('confirm <label> <photoIds...>')
    .description('confirm photos as <label> (moves them out of any other label)')
    .option('--json', 'print JSON')
    .action(async (label: string, ids: string[], o: { json?: boolean }) => {
      const r = await ctx.engine().call('learn.confirm', { label: labelRef(label), photos: photoIds(ids) });
      if (o.json) return ctx.json(r);
      changeLine(ctx, r);
    });

  program.command('reject <label> <photoIds...>')
    .description('"not <label>": removes the label and never suggests it again for these photos')
    .option('--json', 'print JSON')
    .action(async (label: string, ids: string[], o: { json?: boolean }) => {
      const r = await ctx.engine().call('learn.reject', { label: labelRef(label), photos: photoIds(ids) });
      if (o.json) return ctx.json(r);
      changeLine(ctx, r);
    });

  program.command('suggestions')
    .description('the review queue (most informative first), or with --label that label\'s suggestions (most confident first)')
    .option('--label <name>', 'only suggestions of this label')
    .option('--limit <n>', 'page size', '50')
    .option('--offset <n>', 'skip this many', '0')
    .option('--json', 'print JSON (SuggestionPage, see README, learning loop)')
    .action(async (o: { label?: string; limit: string; offset: string; json?: boolean }) => {
      const limit = Number(o.limit), offset = Number(o.offset);
      if (!Number.isInteger(limit) || !Number.isInteger(offset)) throw new UsageError('--limit and --offset take whole numbers');
      const r = await ctx.engine().call('learn.suggestions', { label: o.label, limit, offset });
      if (o.json) return ctx.json(r);
      for (const s of r.items as Suggestion[]) {
        ctx.out(`${pad(s.photoId, 8)} ${pad(s.label ?? 'unknown', 16)} ${s.confidence.toFixed(2)}  margin ${s.margin.toFixed(2)}  ${pad(s.reason, 10)} now: ${s.current ? `${s.current.label} (${s.current.state})` : '-'}${s.clusterId !== null ? `  c${s.clusterId}` : ''}`);
      }
      ctx.out(`${r.items.length} of ${r.total} shown (trained on ${r.trainedOn.confirmed} confirmed, ${r.trainedOn.assigned} assigned, ${r.trainedOn.rejected} rejected)`);
    });

  program.command('labels')
    .description('list labels with counts')
    .option('--json', 'print JSON (LabelInfo[], see README, learning loop)')
    .action(async (o: { json?: boolean }) => {
      const r = await ctx.engine().call('learn.labels', {});
      if (o.json) return ctx.json(r);
      if (!r.length) ctx.out('no labels yet (name a cluster: sift label Dog c12)');
      for (const l of r as LabelInfo[]) ctx.out(`${pad(l.name, 20)} confirmed ${pad(l.confirmed, 6)} assigned ${pad(l.assigned, 6)} rejected ${pad(l.rejected, 6)}`);
    });

  program.command('rename-label <label> <newName>').description('rename a label')
    .action(async (label: string, name: string) => changeLine(ctx, await ctx.engine().call('learn.renameLabel', { label, name })));
  program.command('merge-labels <from> <into>').description('merge label <from> into <into>')
    .action(async (from: string, into: string) => changeLine(ctx, await ctx.engine().call('learn.mergeLabels', { from, into })));
  program.command('delete-label <label>').description('delete a label (its photos become unlabeled; undoable)')
    .action(async (label: string) => changeLine(ctx, await ctx.engine().call('learn.deleteLabel', { label })));
  program.command('split <photoIds...>').description('split photos off into a new cluster (and label with --name)')
    .option('--name <label>', 'label the new cluster')
    .action(async (ids: string[], o: { name?: string }) => changeLine(ctx, await ctx.engine().call('learn.split', { photos: photoIds(ids), name: o.name })));
  program.command('merge-clusters <from> <into>').description('merge cluster c<from> into cluster c<into>')
    .action(async (from: string, into: string) => {
      const { clusters } = parseTargets([from, into]);
      if (clusters.length !== 2) throw new UsageError('merge-clusters takes two cluster ids, e.g. c3 c7');
      changeLine(ctx, await ctx.engine().call('learn.mergeClusters', { from: clusters[0], into: clusters[1] }));
    });

  for (const which of ['undo', 'redo'] as const) {
    program.command(which).description(`${which} the last label change (also after a restart)`)
      .option('--json', 'print JSON')
      .action(async (o: { json?: boolean }) => {
        const r = await ctx.engine().call(which === 'undo' ? 'learn.undo' : 'learn.redo', {});
        if (o.json) return ctx.json(r);
        ctx.out(r.entry ? `${which === 'undo' ? 'undid' : 'redid'}: ${r.entry.summary}` : `nothing to ${which}`);
      });
  }
};
