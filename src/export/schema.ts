import type { DB } from '../store/db.ts';

// Owned by the export part. Placeholder until the export issue fills it in.
export function exportSchema(_db: DB): void {}
