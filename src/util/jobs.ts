// Long jobs: an id, an AbortSignal for cancel, and throttled progress events with rate and ETA.
import { randomUUID } from 'node:crypto';
import type { JobEvent, JobInfo } from '../api/contract/jobs.ts';

export interface JobHandle {
  jobId: string;
  signal: AbortSignal;
  /** Report progress; throttled to ~10 events/s except the last one. */
  progress(p: { phase: string; done: number; total: number; failed?: number; current?: string }, force?: boolean): void;
}

export class Jobs {
  private running = new Map<string, { info: JobInfo; ctrl: AbortController }>();
  constructor(private emit: (e: JobEvent) => void) {}

  list(): JobInfo[] { return [...this.running.values()].map((r) => r.info); }

  cancel(jobId: string): boolean {
    const r = this.running.get(jobId);
    if (!r) return false;
    r.ctrl.abort(new Error('cancelled'));
    return true;
  }

  async run<T>(kind: string, jobId: string | undefined, fn: (job: JobHandle) => Promise<T>): Promise<T> {
    const id = jobId ?? randomUUID();
    if (this.running.has(id)) throw new Error(`A job with id ${id} is already running`);
    const ctrl = new AbortController();
    this.running.set(id, { info: { jobId: id, kind, startedAt: Date.now() }, ctrl });
    const t0 = performance.now();
    let last = 0;
    let phaseStart = t0;
    let phaseName = '';
    const handle: JobHandle = {
      jobId: id,
      signal: ctrl.signal,
      progress: (p, force = false) => {
        const now = performance.now();
        if (p.phase !== phaseName) { phaseName = p.phase; phaseStart = now; }
        if (!force && now - last < 100 && p.done < p.total) return;
        last = now;
        const secs = (now - phaseStart) / 1000;
        const rate = secs > 0 ? p.done / secs : 0;
        const eta = rate > 0 && p.total >= p.done ? (p.total - p.done) / rate : null;
        this.emit({ type: 'job.progress', jobId: id, kind, phase: p.phase, done: p.done, total: p.total, failed: p.failed ?? 0, rate, etaSeconds: eta, current: p.current });
      },
    };
    try {
      const out = await fn(handle);
      this.emit({ type: 'job.ended', jobId: id, kind, outcome: ctrl.signal.aborted ? 'cancelled' : 'done' });
      return out;
    } catch (err) {
      this.emit({ type: 'job.ended', jobId: id, kind, outcome: ctrl.signal.aborted ? 'cancelled' : 'failed', error: String((err as Error)?.message ?? err) });
      throw err;
    } finally {
      this.running.delete(id);
    }
  }
}
