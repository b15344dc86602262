// Piscina worker of the library index: one photo per task (see src/media/process.ts).
import { processPhoto, type ProcessTask, type ProcessResult } from '../media/process.ts';

export default async function run(task: ProcessTask | { warm: true }): Promise<ProcessResult> {
  if ('warm' in task) return { ok: false, error: 'warm-up' }; // starts the thread and loads the modules
  try {
    return await processPhoto(task);
  } catch (e) {
    // never let one photo take the pool down
    return { ok: false, error: `could not process the file: ${(e as Error)?.message ?? String(e)}` };
  }
}
