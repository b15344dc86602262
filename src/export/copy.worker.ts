// Piscina worker of the export: exclusive copy + read-back + hash of several files per task (see copy.ts).
import { copyVerifySync, type CopyResult, type CopyTask } from './copy-sync.ts';

export default function run(task: CopyTask): CopyResult[] {
  return task.jobs.map((job) => copyVerifySync(job, task.faults));
}
