// App-wide UI state: notifications (errors shown with the file concerned) and running jobs.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import type { JobProgress } from '../../src/api/contract/index.ts';
import { call } from './host.ts';
import { afterFirstPaint } from './boot.ts';
import { useEngineEvent, fmtDuration, fmtCount } from './util.ts';

export interface Note { id: number; kind: 'error' | 'info' | 'ok'; text: string; file?: string }

const NotesCtx = createContext<(n: Omit<Note, 'id'>) => void>(() => {});
export const useNotify = () => useContext(NotesCtx);

let noteSeq = 0;
export function NotesProvider({ children }: { children: ReactNode }) {
  const [notes, setNotes] = useState<Note[]>([]);
  const notify = useCallback((n: Omit<Note, 'id'>) => {
    const id = ++noteSeq;
    setNotes((xs) => [...xs.slice(-4), { ...n, id }]);
    setTimeout(() => setNotes((xs) => xs.filter((x) => x.id !== id)), n.kind === 'error' ? 20_000 : 4000);
  }, []);
  return (
    <NotesCtx.Provider value={notify}>
      {children}
      <div className="notes" role="status" aria-live="polite">
        {notes.map((n) => (
          <div key={n.id} className={`note note-${n.kind}`} data-testid={`note-${n.kind}`}>
            <div className="note-body">
              <div>{n.text}</div>
              {n.file && <div className="note-file" title={n.file}>{n.file}</div>}
            </div>
            <button className="icon" aria-label="Dismiss" onClick={() => setNotes((xs) => xs.filter((x) => x.id !== n.id))}>×</button>
          </div>
        ))}
      </div>
    </NotesCtx.Provider>
  );
}

/** Runs an async action and shows its error (if any) as a notification. */
export function useAction() {
  const notify = useNotify();
  return useCallback(async <T,>(fn: () => Promise<T>, okText?: string): Promise<T | undefined> => {
    try {
      const r = await fn();
      if (okText) notify({ kind: 'ok', text: okText });
      return r;
    } catch (e) {
      notify({ kind: 'error', text: (e as Error).message });
      return undefined;
    }
  }, [notify]);
}

/** Live progress of every running job (from job.progress events), by job id. */
export function useJobs(): Map<string, JobProgress> {
  const [jobs, setJobs] = useState(new Map<string, JobProgress>());
  useEffect(() => {
    afterFirstPaint(() => call('jobs.list', {})).then((list) => {
      setJobs((m) => {
        const n = new Map(m);
        for (const j of list) if (!n.has(j.jobId)) n.set(j.jobId, { type: 'job.progress', jobId: j.jobId, kind: j.kind, phase: 'running', done: 0, total: 0, failed: 0, rate: 0, etaSeconds: null });
        return n;
      });
    }).catch(() => {});
  }, []);
  useEngineEvent((e) => {
    if (e.type === 'job.progress') setJobs((m) => new Map(m).set(e.jobId, e));
    else if (e.type === 'job.ended') setJobs((m) => { const n = new Map(m); n.delete(e.jobId); return n; });
  });
  return jobs;
}

export function JobBar({ job, onCancel }: { job: JobProgress; onCancel?: () => void }) {
  const pct = job.total > 0 ? Math.min(100, (100 * job.done) / job.total) : 0;
  return (
    <div className="job" data-testid="job-progress">
      <div className="job-head">
        <strong>{job.kind}</strong>
        <span className="muted">{job.phase}</span>
        <span className="spacer" />
        <span data-testid="job-count">{fmtCount(job.done)} / {job.total ? fmtCount(job.total) : '…'}</span>
        {onCancel && <button className="small" onClick={onCancel} data-testid="job-cancel">Cancel</button>}
      </div>
      <div className="bar"><div className={`bar-fill${job.total ? '' : ' indeterminate'}`} style={{ width: job.total ? `${pct}%` : undefined }} /></div>
      <div className="job-meta muted">
        <span data-testid="job-rate">{job.rate > 0 ? `${job.rate.toFixed(job.rate < 10 ? 1 : 0)} /s` : '— /s'}</span>
        <span data-testid="job-eta">ETA {fmtDuration(job.etaSeconds)}</span>
        {job.failed > 0 && <span className="warn">{fmtCount(job.failed)} failed</span>}
        {job.current && <span className="job-current" title={job.current}>{job.current}</span>}
      </div>
    </div>
  );
}
