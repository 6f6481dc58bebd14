import fs from 'node:fs';
import { DevStackError } from './errors';
import { isAlive, readPidFile, removeFile } from './process';
import { pollUntil } from './wait';

/**
 * Runs fn while holding a lock file, so two `dev up`/`dev down` (or parallel test workers)
 * never start the same server twice. A lock left by a dead process is taken over.
 */
export async function withLock<T>(file: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const acquire = async (): Promise<boolean> => {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readPidFile(file);
      if (holder === undefined || !isAlive(holder)) removeFile(file);
      return false;
    }
  };
  if (!(await pollUntil(acquire, { timeoutMs, intervalMs: 200 }))) {
    throw new DevStackError(
      'stack',
      `another batchgrid dev command (pid ${readPidFile(file) ?? '?'}) is still starting or stopping the stack`,
      `Wait for it to finish, or remove ${file} if that process is gone.`,
    );
  }
  try {
    return await fn();
  } finally {
    removeFile(file);
  }
}
