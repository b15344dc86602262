// Export dialog: choose where and how, preview the plan (nothing changes on disk), run it with progress
// (cancellable), resume an interrupted export, and list past exports with undo for each.
import { useState } from 'react';
import type { ExportInfo, ExportPlan, ExportRunSummary, ExportUndoSummary } from '../../../src/api/contract/index.ts';
import { call, host } from '../host.ts';
import { JobBar, useAction, useJobs, useNotify } from '../ui.tsx';
import { fmtBytes, fmtCount, newJobId, useLoad } from '../util.ts';

type Mode = 'copy' | 'hardlink' | 'symlink' | 'move';

/** States export.resume continues (a killed export shows as interrupted). */
const RESUMABLE = new Set(['interrupted', 'cancelled', 'failed']);
/** States export.undo accepts (an interrupted undo is undone again). */
const UNDOABLE = new Set(['done', 'interrupted', 'cancelled', 'failed', 'undo-interrupted']);

function countsText(c: Record<string, number>): string {
  return Object.entries(c).filter(([, n]) => n > 0).map(([k, n]) => `${fmtCount(n)} ${k}`).join(' · ') || 'nothing';
}

export function ExportDialog({ onClose }: { onClose: () => void }) {
  const act = useAction();
  const notify = useNotify();
  const jobs = useJobs();
  const [to, setTo] = useState(localStorage.getItem('sift.exportTo') ?? '');
  const [mode, setMode] = useState<Mode>('copy');
  const [template, setTemplate] = useState('{label}');
  const [unlabeled, setUnlabeled] = useState<'folder' | 'skip'>('folder');
  const [keywords, setKeywords] = useState(false);
  const [plan, setPlan] = useState<ExportPlan | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const [result, setResult] = useState<ExportRunSummary | null>(null);
  const [undone, setUndone] = useState<ExportUndoSummary | null>(null);
  const exports = useLoad(() => call('export.list', {}), [], ['exports.changed']);
  const last = exports.data?.slice().sort((a, b) => b.createdAt - a.createdAt).find((e) => e.state !== 'planned' && e.state !== 'undone');

  const options = () => ({ to: to.trim(), mode, template, unlabeled, keywords });
  const preview = async () => {
    if (!to.trim()) { notify({ kind: 'error', text: 'Choose a destination folder first.' }); return; }
    localStorage.setItem('sift.exportTo', to.trim());
    setResult(null); setUndone(null);
    const p = await act(() => call('export.plan', options()));
    if (p) setPlan(p);
  };
  const run = async () => {
    if (!plan) return;
    const id = newJobId('export');
    setJobId(id);
    try {
      const r = await act(() => call('export.run', { exportId: plan.exportId, jobId: id }));
      if (r) showRun(r, 'Exported');
    } finally { setJobId(null); exports.reload(); }
  };
  const showRun = (r: ExportRunSummary, verb: string) => {
    setResult(r);
    if (r.error) notify({ kind: 'error', text: `Export stopped: ${r.error}` });
    else notify({ kind: r.failedTotal ? 'error' : 'ok', text: `${verb} ${fmtCount(r.created + r.moved)} files${r.failedTotal ? `, ${r.failedTotal} failed` : ''}` });
  };
  const resume = async (exportId: number) => {
    const id = newJobId('export-resume');
    setJobId(id); setUndone(null);
    try {
      const r = await act(() => call('export.resume', { exportId, jobId: id }));
      if (r) showRun(r, 'Resumed: exported');
    } finally { setJobId(null); exports.reload(); }
  };
  const undoOne = async (e: ExportInfo) => {
    if (!confirm(`Undo the export to ${e.dest}? Files it created are removed (only if unchanged); moved files go back.`)) return;
    const id = newJobId('export-undo');
    setJobId(id);
    try {
      const u = await act(() => call('export.undo', { exportId: e.exportId, jobId: id }), 'Export undone');
      if (u) { setUndone(u); setPlan(null); setResult(null); }
    } finally { setJobId(null); exports.reload(); }
  };
  const undo = async () => { if (last) await undoOne(last); };
  const past = (exports.data ?? []).filter((e) => e.state !== 'planned').sort((a, b) => b.createdAt - a.createdAt);
  const pick = async () => { const p = await host.pickFolder(); if (p) { setTo(p); setPlan(null); } };
  const job = jobId ? jobs.get(jobId) : undefined;

  return (
    <div className="modal-backdrop" onMouseDown={(e) => { if (e.target === e.currentTarget && !jobId) onClose(); }}>
      <div className="dialog" role="dialog" aria-label="Export" data-testid="export-dialog">
        <div className="row"><h2 className="grow">Export sorted folders</h2><button className="icon" aria-label="Close" onClick={onClose} disabled={!!jobId}>×</button></div>
        <p className="muted" style={{ marginTop: 0 }}>Your originals are never changed unless you choose “move”, and every export can be undone.</p>
        <div className="form">
          <label>Destination</label>
          <div className="row">
            <input className="grow" value={to} onChange={(e) => { setTo(e.target.value); setPlan(null); }} placeholder="/path/to/sorted" data-testid="export-to" />
            {host.kind === 'electron' && <button onClick={() => void pick()}>Choose…</button>}
          </div>
          <label>Mode</label>
          <select value={mode} onChange={(e) => { setMode(e.target.value as Mode); setPlan(null); }} data-testid="export-mode">
            <option value="copy">Copy (safe, uses space)</option>
            <option value="hardlink">Hard links (no extra space, same disk)</option>
            <option value="symlink">Symbolic links</option>
            <option value="move">Move the originals</option>
          </select>
          <label>Folders</label>
          <input value={template} onChange={(e) => { setTemplate(e.target.value); setPlan(null); }} title="Tokens: {label} {yyyy} {mm} {dd} {camera} {name} {ext}" data-testid="export-template" />
          <label>Unlabelled</label>
          <select value={unlabeled} onChange={(e) => { setUnlabeled(e.target.value as 'folder' | 'skip'); setPlan(null); }}>
            <option value="folder">Put in “Unsorted”</option>
            <option value="skip">Leave out</option>
          </select>
          <label />
          <label className="row"><input type="checkbox" checked={keywords} onChange={(e) => { setKeywords(e.target.checked); setPlan(null); }} /> Write labels as XMP keywords (sidecars)</label>
        </div>

        {plan && !result && (
          <div className="summary" data-testid="export-plan">
            <div className="chips">
              <span className="chip">{fmtCount(plan.photos)} photos</span>
              <span className="chip">{fmtCount(plan.files)} files</span>
              <span className="chip">{fmtBytes(plan.bytesToWrite)} to write</span>
              {plan.freeBytes != null && <span className={`chip${plan.freeBytes < plan.bytesToWrite ? ' chip-warn' : ''}`}>{fmtBytes(plan.freeBytes)} free</span>}
              {plan.identical > 0 && <span className="chip">{fmtCount(plan.identical)} already there</span>}
              {plan.renamed > 0 && <span className="chip chip-warn">{fmtCount(plan.renamed)} renamed</span>}
              {plan.skippedTotal > 0 && <span className="chip">{fmtCount(plan.skippedTotal)} left out</span>}
            </div>
            <table className="exif"><tbody>
              {plan.folders.slice(0, 30).map((f) => <tr key={f.folder}><th style={{ width: 'auto' }}><code>{f.folder || '.'}</code></th><td>{fmtCount(f.photos)} photos</td><td className="muted">{fmtBytes(f.bytes)}</td></tr>)}
            </tbody></table>
            {plan.warnings.map((w) => <div key={w} className="warn">{w}</div>)}
            {plan.conflicts.length > 0 && (
              <details><summary>{fmtCount(plan.conflictsTotal)} conflicts</summary>
                <ul className="failures">{plan.conflicts.slice(0, 100).map((c, i) => <li key={i}><code>{c.dst}</code><span className="muted">{c.kind}: {c.detail}</span></li>)}</ul></details>
            )}
            {plan.skipped.length > 0 && (
              <details><summary>{fmtCount(plan.skippedTotal)} left out</summary>
                <ul className="failures">{plan.skipped.slice(0, 100).map((s, i) => <li key={i}><code>{s.path}</code><span className="muted">{s.reason}</span></li>)}</ul></details>
            )}
          </div>
        )}
        {job && <JobBar job={job} onCancel={() => void act(() => call('jobs.cancel', { jobId: jobId! }))} />}
        {result && (
          <div className="summary" data-testid="export-result" data-export={result.exportId}>
            <div className="chips">
              <span className="chip">{result.state}</span>
              <span className="chip">{fmtCount(result.created)} created</span>
              {result.moved > 0 && <span className="chip">{fmtCount(result.moved)} moved</span>}
              {result.identical > 0 && <span className="chip">{fmtCount(result.identical)} identical</span>}
              {result.renamed > 0 && <span className="chip">{fmtCount(result.renamed)} renamed</span>}
              <span className="chip">{fmtBytes(result.bytesWritten)}</span>
              {result.failedTotal > 0 && <span className="chip chip-warn">{fmtCount(result.failedTotal)} failed</span>}
            </div>
            {result.error && <div className="warn">{result.error}{result.pending ? ` — ${fmtCount(result.pending)} left; it can be resumed.` : ''}</div>}
            {(result.warnings ?? []).map((w) => <div key={w} className="warn" data-testid="export-result-warning">{w}</div>)}
            {result.pending > 0 && !jobId && (
              <div className="row" style={{ marginTop: 8 }}>
                <span className="muted grow">{fmtCount(result.pending)} files not exported yet ({result.state}).</span>
                <button className="primary" onClick={() => void resume(result.exportId)} data-testid="export-result-resume">Resume</button>
              </div>
            )}
            {result.failed.length > 0 && <ul className="failures">{result.failed.slice(0, 100).map((f, i) => <li key={i}><code>{f.src ?? f.dst}</code><span className="warn">{f.error}</span></li>)}</ul>}
          </div>
        )}
        {undone && (
          <div className="summary" data-testid="export-undone">
            <div className="chips"><span className="chip">{undone.state}</span><span className="chip">{fmtCount(undone.removed)} removed</span>
              {undone.movedBack > 0 && <span className="chip">{fmtCount(undone.movedBack)} moved back</span>}
              {undone.kept.length > 0 && <span className="chip chip-warn">{fmtCount(undone.kept.length)} kept</span>}</div>
            {undone.kept.length > 0 && <ul className="failures">{undone.kept.slice(0, 100).map((k) => <li key={k.path}><code>{k.path}</code><span className="muted">{k.reason}</span></li>)}</ul>}
            {undone.failed.length > 0 && <ul className="failures">{undone.failed.slice(0, 100).map((k) => <li key={k.path}><code>{k.path}</code><span className="warn">{k.error}</span></li>)}</ul>}
          </div>
        )}
        {past.length > 0 && (
          <details className="summary" open={past.some((e) => RESUMABLE.has(e.state))} data-testid="export-history">
            <summary>Past exports ({fmtCount(past.length)})</summary>
            <table className="exports-table"><tbody>
              {past.slice(0, 50).map((e) => (
                <tr key={e.exportId} data-testid="export-past" data-export={e.exportId} data-state={e.state}>
                  <td className="muted" style={{ whiteSpace: 'nowrap' }}>{new Date(e.createdAt).toLocaleString()}</td>
                  <td><code>{e.dest}</code><div className="muted">{e.mode} · {e.template}</div></td>
                  <td style={{ whiteSpace: 'nowrap' }}>
                    <span className={`chip${RESUMABLE.has(e.state) ? ' chip-warn' : ''}`} data-testid="export-past-state">{e.state}</span>
                    <div className="muted">{countsText(e.counts)}</div>
                    {e.error && <div className="warn" title={e.error}>{e.error}</div>}
                  </td>
                  <td style={{ whiteSpace: 'nowrap', textAlign: 'right' }}>
                    {RESUMABLE.has(e.state) && <button className="small primary" disabled={!!jobId} onClick={() => void resume(e.exportId)} data-testid="export-past-resume">Resume</button>}
                    {UNDOABLE.has(e.state) && <button className="small" disabled={!!jobId} onClick={() => void undoOne(e)} data-testid="export-past-undo">Undo</button>}
                  </td>
                </tr>
              ))}
            </tbody></table>
          </details>
        )}
        <div className="row end" style={{ marginTop: 16 }}>
          {last && <span className="muted grow" style={{ fontSize: 12 }}>Last export: {last.dest} ({last.state})</span>}
          {last && <button onClick={() => void undo()} disabled={!!jobId} data-testid="export-undo">Undo last export</button>}
          <button onClick={() => void preview()} disabled={!!jobId} data-testid="export-preview">Preview</button>
          <button className="primary" onClick={() => void run()} disabled={!plan || !!jobId || !!result} data-testid="export-run">
            {plan ? `Export ${fmtCount(plan.photos)} photos` : 'Export'}
          </button>
        </div>
      </div>
    </div>
  );
}
