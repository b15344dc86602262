// First run and library management: add a folder (path, picker, drag & drop), index it with live progress
// (rate, ETA, cancel), see what failed and why.
import { useState, type DragEvent } from 'react';
import type { IndexSummary, LibraryStatus } from '../../../src/api/contract/index.ts';
import { call, host } from '../host.ts';
import { JobBar, useAction, useJobs, useNotify } from '../ui.tsx';
import { fmtCount, newJobId } from '../util.ts';

/** A path from a drop: the host's resolver (Electron) or a file:// URI (file managers put one in text/uri-list). */
function droppedPath(e: DragEvent): string | null {
  const f = e.dataTransfer.files?.[0];
  if (f && host.pathForFile) {
    const p = host.pathForFile(f);
    if (p) return p;
  }
  const uri = e.dataTransfer.getData('text/uri-list') || e.dataTransfer.getData('text/plain');
  const line = uri.split(/\r?\n/).find((l) => l && !l.startsWith('#'))?.trim();
  if (line?.startsWith('file://')) {
    try { return decodeURIComponent(new URL(line).pathname).replace(/^\/([A-Za-z]:)/, '$1'); } catch { return null; }
  }
  if (line && (line.startsWith('/') || /^[A-Za-z]:\\/.test(line))) return line;
  return null;
}

export function AddFolder({ onIndexed, compact }: { onIndexed?: (s: IndexSummary) => void; compact?: boolean }) {
  const [path, setPath] = useState('');
  const [over, setOver] = useState(false);
  const [jobId, setJobId] = useState<string | null>(null);
  const [summary, setSummary] = useState<IndexSummary | null>(null);
  const jobs = useJobs();
  const notify = useNotify();
  const act = useAction();

  const start = async (p: string) => {
    const folder = p.trim();
    if (!folder) { notify({ kind: 'error', text: 'Type the path of a folder, choose one, or drop it here.' }); return; }
    const id = newJobId('index');
    setSummary(null);
    try {
      await call('library.addRoot', { path: folder });
      setJobId(id);
      const s = await call('library.index', { roots: [folder], jobId: id });
      setSummary(s);
      onIndexed?.(s);
      if (s.cancelled) notify({ kind: 'info', text: `Indexing cancelled: ${fmtCount(s.added)} photos added so far are kept.` });
      else notify({ kind: 'ok', text: `Indexed ${fmtCount(s.found)} files: ${fmtCount(s.added)} new.` });
    } catch (e) {
      notify({ kind: 'error', text: (e as Error).message, file: folder });
    } finally {
      setJobId(null);
    }
  };
  const pick = async () => {
    const p = await host.pickFolder();
    if (p) { setPath(p); void start(p); }
    else if (host.kind === 'web') notify({ kind: 'info', text: 'The web host has no folder picker: type the folder path.' });
  };
  const job = jobId ? jobs.get(jobId) : undefined;

  return (
    <div className={`addfolder${compact ? ' compact' : ''}`}>
      <div
        className={`dropzone${over ? ' over' : ''}`}
        data-testid="dropzone"
        onDragOver={(e) => { e.preventDefault(); setOver(true); }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          const p = droppedPath(e);
          if (p) { setPath(p); void start(p); } else notify({ kind: 'error', text: 'Could not read the dropped folder\'s path; type it instead.' });
        }}
      >
        {!compact && <div className="drop-icon" aria-hidden>⬇</div>}
        <div className="drop-text">{compact ? 'Add another folder' : 'Drop a photo folder here'}</div>
        <form className="row" onSubmit={(e) => { e.preventDefault(); void start(path); }}>
          <input
            className="grow" placeholder="/path/to/photos" value={path} aria-label="Folder path"
            data-testid="folder-path" onChange={(e) => setPath(e.target.value)} disabled={!!jobId}
          />
          <button type="button" onClick={() => void act(pick)} disabled={!!jobId}>Choose…</button>
          <button type="submit" className="primary" data-testid="add-folder" disabled={!!jobId}>Add &amp; index</button>
        </form>
      </div>
      {jobId && (
        job ? <JobBar job={job} onCancel={() => void act(() => call('jobs.cancel', { jobId }))} />
          : <div className="job muted">Starting…</div>
      )}
      {summary && <SummaryView s={summary} />}
    </div>
  );
}

export function SummaryView({ s }: { s: IndexSummary }) {
  return (
    <div className="summary" data-testid="index-summary">
      <div className="chips">
        <span className="chip">{fmtCount(s.found)} found</span>
        <span className="chip">{fmtCount(s.added)} added</span>
        {s.updated > 0 && <span className="chip">{fmtCount(s.updated)} updated</span>}
        {s.moved > 0 && <span className="chip">{fmtCount(s.moved)} moved</span>}
        {s.missing > 0 && <span className="chip">{fmtCount(s.missing)} missing</span>}
        {s.offline > 0 && <span className="chip chip-warn">{fmtCount(s.offline)} offline (folder not reachable, kept as they are)</span>}
        {s.duplicates > 0 && <span className="chip">{fmtCount(s.duplicates)} duplicates</span>}
        {s.failed.length > 0 && <span className="chip chip-warn">{fmtCount(s.failed.length)} failed</span>}
        {s.warnings?.length > 0 && <span className="chip chip-warn">{fmtCount(s.warnings.length)} damaged</span>}
        <span className="chip muted">{s.seconds.toFixed(1)} s{s.cancelled ? ', cancelled' : ''}</span>
      </div>
      {s.stages?.map((st) => (
        <div key={st.id} className="muted" style={{ fontSize: 12 }}>
          {st.id}: {fmtCount(st.done)} done{st.failed ? `, ${fmtCount(st.failed)} failed` : ''}{st.skipped ? ` — skipped: ${st.skipped}` : ''}
        </div>
      ))}
      {s.warnings?.length > 0 && (
        <details>
          <summary>{fmtCount(s.warnings.length)} damaged files were indexed from what could be decoded</summary>
          <ul className="failures">
            {s.warnings.slice(0, 200).map((w) => <li key={w.path}><code>{w.path}</code><span className="muted">{w.warning}</span></li>)}
          </ul>
        </details>
      )}
      {s.failed.length > 0 && (
        <details open={s.failed.length <= 5}>
          <summary>Files that could not be read (kept in the library as “failed”; nothing was changed on disk)</summary>
          <ul className="failures">
            {s.failed.slice(0, 200).map((f) => <li key={f.path}><code>{f.path}</code><span className="warn">{f.error}</span></li>)}
          </ul>
        </details>
      )}
    </div>
  );
}

export function LibraryView({ status, reload }: { status: LibraryStatus | undefined; reload: () => void }) {
  const act = useAction();
  const [jobId, setJobId] = useState<string | null>(null);
  const [summary, setSummary] = useState<IndexSummary | null>(null);
  const jobs = useJobs();
  const reindex = async (roots?: string[]) => {
    const id = newJobId('index');
    setJobId(id);
    try {
      const s = await act(() => call('library.index', { roots, jobId: id }));
      if (s) setSummary(s);
    } finally { setJobId(null); reload(); }
  };
  const job = jobId ? jobs.get(jobId) : undefined;
  return (
    <div className="page" data-testid="view-library">
      <h2>Library</h2>
      {status && (
        <div className="chips">
          <span className="chip">{fmtCount(status.photos)} photos</span>
          <span className="chip">{fmtCount(status.ok)} ok</span>
          {status.pending > 0 && <span className="chip">{fmtCount(status.pending)} pending</span>}
          {status.missing > 0 && <span className="chip">{fmtCount(status.missing)} missing</span>}
          {status.offline > 0 && <span className="chip chip-warn" title="Their folder cannot be reached (disconnected drive?): they are kept as they are">{fmtCount(status.offline)} offline</span>}
          {status.failed > 0 && <span className="chip chip-warn">{fmtCount(status.failed)} failed</span>}
          {status.duplicates > 0 && <span className="chip">{fmtCount(status.duplicates)} duplicates</span>}
        </div>
      )}
      <h3>Folders</h3>
      {status && status.roots.length === 0 && <p className="muted">No folders yet.</p>}
      <ul className="roots">
        {status?.roots.map((r) => (
          <li key={r.id}>
            <code className="grow" title={r.path}>{r.path}</code>
            <span className="muted">{fmtCount(r.photos)} photos</span>
            {r.offline && <span className="warn" title={r.offline}>not reachable</span>}
            <button className="small" disabled={!!jobId} onClick={() => void reindex([r.path])}>Re-index</button>
            <button className="small danger" disabled={!!jobId} onClick={() => {
              if (confirm(`Stop watching ${r.path}? Photos on disk are not touched.`)) void act(() => call('library.removeRoot', { path: r.path })).then(reload);
            }}>Remove</button>
          </li>
        ))}
      </ul>
      {jobId && (job ? <JobBar job={job} onCancel={() => void act(() => call('jobs.cancel', { jobId }))} /> : <div className="job muted">Starting…</div>)}
      {summary && <SummaryView s={summary} />}
      <h3>Add a folder</h3>
      <AddFolder compact onIndexed={reload} />
    </div>
  );
}
