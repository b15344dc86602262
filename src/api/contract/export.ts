import { z } from 'zod';
import { method } from './define.ts';

// Owned by the export issue. Extend here.
export const exportContract = {
  'export.list': method<unknown[]>()(z.object({})),
};
