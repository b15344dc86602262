// CLI commands of the vision part: similar, embeddings, models, embed, model-set, model-add, model-download.
// (`sift index` embeds through the index stage registered by the engine.)
import fs from 'node:fs';
import { EXIT_SOME_FAILED, UsageError, type RegisterCommands } from '../context.ts';
import type { SiftEvent } from '../../src/api/engine.ts';

function progressPrinter(kind: string): (e: SiftEvent) => void {
  let last = 0;
  return (e) => {
    if (e.type !== 'job.progress' || e.kind !== kind || !process.stderr.isTTY) return;
    const now = Date.now();
    if (now - last < 200 && e.done < e.total) return;
    last = now;
    const eta = e.etaSeconds != null ? ` ETA ${Math.round(e.etaSeconds)}s` : '';
    process.stderr.write(`\r${e.phase} ${e.done}/${e.total} (${e.rate.toFixed(1)}/s${eta})${e.failed ? `, ${e.failed} failed` : ''}   ${e.done >= e.total ? '\n' : ''}`);
  };
}

export const registerVision: RegisterCommands = (program, ctx) => {
  program.command('similar')
    .description('list the photos most similar to a photo (library id or file path)')
    .argument('<photo>', 'photo id or path (a file outside the library is embedded on the fly)')
    .option('-k, --count <n>', 'how many', '10')
    .option('--json', 'JSON output')
    .action(async (photo: string, o: { count: string; json?: boolean }) => {
      const k = Number(o.count);
      if (!Number.isInteger(k) || k < 1) throw new UsageError(`--count must be a positive integer, got ${o.count}`);
      const q = /^\d+$/.test(photo) && !fs.existsSync(photo) ? { photoId: Number(photo), k } : { path: photo, k };
      const r = await ctx.engine().call('vision.similar', q);
      if (o.json) return ctx.json(r);
      ctx.out(`# ${r.results.length} nearest to ${r.query.photoId ?? ''} ${r.query.path} (model set ${r.modelSet})`);
      for (const x of r.results) ctx.out(`${x.score.toFixed(4)}\t${x.photoId}\t${x.path}`);
    });

  program.command('embeddings')
    .description('write the embedding matrix: FILE (float32 little-endian, row-major) + FILE.json (photo ids, paths, models)')
    .requiredOption('--out <file>', 'output file')
    .option('--model-set <id>', 'model set (default: the current one)')
    .action(async (o: { out: string; modelSet?: string }) => {
      const r = await ctx.engine().call('vision.exportEmbeddings', { out: o.out, modelSet: o.modelSet });
      ctx.out(`${r.rows} × ${r.dim} (${r.modelSet}) -> ${r.file} + ${r.metaFile}`);
    });

  program.command('models')
    .description('list models, model sets and downloadable models, with their status')
    .option('--json', 'JSON output')
    .action(async (o: { json?: boolean }) => {
      const r = await ctx.engine().call('vision.models', {});
      if (o.json) return ctx.json(r);
      ctx.out('models:');
      if (!r.models.length) ctx.out(`  (none: the default models are built by \`npm run build:models\` into ${r.defaultsDir})`);
      for (const m of r.models) {
        ctx.out(`  ${m.id.padEnd(24)} ${m.origin.padEnd(10)} ${m.status.padEnd(8)} ${m.bytes != null ? (m.bytes / 1e6).toFixed(1) + ' MB' : ''}  ${m.outputs.map((x) => `${x.name}[${x.dim}]`).join(' ')}`);
        if (m.reason) ctx.out(`      ${m.reason}`);
      }
      ctx.out('model sets:');
      for (const s of r.sets) {
        ctx.out(`  ${s.selected ? '*' : ' '} ${s.id.padEnd(24)} ${s.ready ? 'ready' : 'NOT READY'}  dim ${s.dim ?? '?'}  ${s.embedded} photos embedded${s.current ? ' (current)' : ''}`);
        if (s.reason) ctx.out(`      ${s.reason}`);
      }
      ctx.out('downloadable:');
      for (const c of r.catalog) ctx.out(`  ${c.id.padEnd(24)} ${c.installed ? 'installed' : c.downloadable ? 'available' : 'not pinned'}  ${c.title}`);
    });

  program.command('embed')
    .description('embed every photo that has no vector for the selected model set (`sift index` does this too)')
    .option('--json', 'JSON output')
    .action(async (o: { json?: boolean }) => {
      const engine = ctx.engine();
      const off = engine.onEvent(progressPrinter('vision.embed'));
      try {
        const r = await engine.call('vision.embed', {});
        if (o.json) ctx.json(r);
        else {
          ctx.out(`embedded ${r.done} of ${r.total} photos (${r.modelSet}) in ${r.seconds.toFixed(1)} s${r.failed.length ? `, ${r.failed.length} failed:` : ''}`);
          for (const f of r.failed) ctx.out(`  ${f.path}: ${f.error}`);
        }
        if (r.failed.length || r.cancelled) ctx.exit(EXIT_SOME_FAILED);
      } finally { off(); }
    });

  program.command('model-set')
    .description('select the model set for embeddings and re-embed the library with it')
    .argument('<id>', 'model set id (see `sift models`)')
    .action(async (id: string) => {
      const engine = ctx.engine();
      const r = await engine.call('vision.setModelSet', { id, background: false });
      ctx.out(`model set ${r.modelSet} selected; ${r.pending} photos to embed`);
      if (r.pending) {
        const off = engine.onEvent(progressPrinter('vision.embed'));
        try {
          const e = await engine.call('vision.embed', {});
          ctx.out(`embedded ${e.done} of ${e.total}${e.failed.length ? `, ${e.failed.length} failed` : ''}`);
          if (e.failed.length) ctx.exit(EXIT_SOME_FAILED);
        } finally { off(); }
      }
    });

  program.command('model-add')
    .description('install a user-supplied ONNX image model with its manifest (JSON file, see README, Learned features)')
    .argument('<onnx>', 'the .onnx file')
    .argument('<manifest>', 'the manifest .json file')
    .action(async (onnx: string, manifest: string) => {
      let m: unknown;
      try { m = JSON.parse(fs.readFileSync(manifest, 'utf8')); } catch (e) { throw new UsageError(`cannot read manifest ${manifest}: ${(e as Error).message}`); }
      const r = await ctx.engine().call('vision.addModel', { file: onnx, manifest: m as { id: string } });
      ctx.out(`installed ${r.id} (${r.status}) -> ${r.file}; select it with \`sift model-set ${r.id}@${r.version}\``);
    });

  program.command('model-download')
    .description('download an optional model from the catalogue (pinned URL, size and SHA-256; resumable)')
    .argument('<id>', 'catalogue id (see `sift models`)')
    .action(async (id: string) => {
      const engine = ctx.engine();
      const off = engine.onEvent(progressPrinter('vision.download'));
      try {
        const r = await engine.call('vision.downloadModel', { id });
        ctx.out(`downloaded ${r.id} (${r.bytes} bytes${r.resumed ? ', resumed' : ''})`);
      } finally { off(); }
    });
};
