import { z } from 'zod';
import { method } from './define.ts';

// Owned by the features issue (embeddings). Extend here.
export const visionContract = {
  'vision.status': method<{ modelSet: string | null; embedded: number; pending: number }>()(z.object({})),
};
