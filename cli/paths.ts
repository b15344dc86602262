import os from 'node:os';
import path from 'node:path';

/** The CLI's default database: SIFT_DB, else sift.db in the user's data directory. */
export function defaultDbPath(): string {
  if (process.env.SIFT_DB) return process.env.SIFT_DB;
  const home = os.homedir();
  let base: string;
  if (process.platform === 'darwin') base = path.join(home, 'Library', 'Application Support', 'Sift');
  else if (process.platform === 'win32') base = path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Sift');
  else base = path.join(process.env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'sift');
  return path.join(base, 'sift.db');
}
