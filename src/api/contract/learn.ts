import { z } from 'zod';
import { method } from './define.ts';

// Owned by the learning-loop issue. Extend here.
export interface LabelInfo { id: number; name: string; confirmed: number; assigned: number; suggested: number }

export const learnContract = {
  'learn.labels': method<LabelInfo[]>()(z.object({})),
};
