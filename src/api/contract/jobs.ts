import { z } from 'zod';
import { method } from './define.ts';

/** Progress of a long job (index, embed, cluster, export). Sent as events; rate in items/s, eta in s. */
export interface JobProgress {
  type: 'job.progress';
  jobId: string;
  kind: string;
  phase: string;
  done: number;
  total: number;
  failed: number;
  rate: number;
  etaSeconds: number | null;
  current?: string;
}
export interface JobEnded {
  type: 'job.ended';
  jobId: string;
  kind: string;
  outcome: 'done' | 'cancelled' | 'failed';
  error?: string;
}
export type JobEvent = JobProgress | JobEnded;

export interface JobInfo { jobId: string; kind: string; startedAt: number }

export const jobsContract = {
  'jobs.list': method<JobInfo[]>()(z.object({})),
  'jobs.cancel': method<{ cancelled: boolean }>()(z.object({ jobId: z.string() })),
};
