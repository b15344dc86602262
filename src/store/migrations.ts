// Ordered schema migrations; position i takes the database from user_version i to i+1.
// Each engine part owns its migrations in its own schema.ts. Never edit a migration that has shipped:
// append a new one.
import type { DB } from './db.ts';
import { librarySchema, libraryRootDevice, libraryThumbGc } from '../library/schema.ts';
import { visionSchema } from '../vision/schema.ts';
import { learnSchema } from '../learn/schema.ts';
import { exportSchema } from '../export/schema.ts';

export interface Migration { name: string; up(db: DB): void }

export const migrations: Migration[] = [
  { name: '001 library', up: librarySchema },
  { name: '002 vision', up: visionSchema },
  { name: '003 learn', up: learnSchema },
  { name: '004 export', up: exportSchema },
  { name: '005 library: roots.dev (disconnected drives)', up: libraryRootDevice },
  { name: '006 library: thumbnail GC candidates', up: libraryThumbGc },
];
