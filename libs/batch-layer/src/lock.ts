/**
 * One writer per dataset: a LOCK file created with O_EXCL holding the owner's
 * pid and host. A lock left by a process that no longer exists on this host
 * (killed, crashed) is taken over; anything else is a `DatasetLockedError`.
 */
import { hostname } from 'node:os';
import { readFile, rm } from 'node:fs/promises';
import { DatasetLockedError, type LockHolder } from './errors.js';
import { writeFileExclusive } from './fsutil.js';

export interface DatasetLock {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(lockFile: string): Promise<LockHolder | null> {
  try {
    const parsed = JSON.parse(await readFile(lockFile, 'utf8')) as Partial<LockHolder>;
    if (typeof parsed.pid === 'number' && typeof parsed.hostname === 'string') {
      return { pid: parsed.pid, hostname: parsed.hostname, startedAt: String(parsed.startedAt ?? '') };
    }
    return null;
  } catch {
    return null;
  }
}

export async function acquireLock(lockFile: string): Promise<DatasetLock> {
  const me: LockHolder = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await writeFileExclusive(lockFile, `${JSON.stringify(me)}\n`)) {
      return {
        async release() {
          const holder = await readHolder(lockFile);
          if (holder && holder.pid === me.pid && holder.hostname === me.hostname) await rm(lockFile, { force: true });
        },
      };
    }
    const holder = await readHolder(lockFile);
    if (holder && holder.hostname === me.hostname && holder.pid !== me.pid && !alive(holder.pid)) {
      // The owner died without releasing it (SIGKILL, crash): take over.
      await rm(lockFile, { force: true });
      continue;
    }
    if (holder === null) {
      // Half-written by a writer that is creating it right now, or garbage: look again shortly.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const again = await readHolder(lockFile);
      if (again === null && attempt === 2) {
        throw new DatasetLockedError(`${lockFile}: the dataset is locked by an unknown writer (unreadable lock file); remove it if no writer runs`, lockFile, null);
      }
      continue;
    }
    const who = holder.pid === me.pid && holder.hostname === me.hostname ? 'this process (opened twice?)' : `pid ${holder.pid} on ${holder.hostname} since ${holder.startedAt}`;
    throw new DatasetLockedError(
      `dir: the dataset is already open for writing by ${who}; one writer per dataset (lock file ${lockFile}). Open it with readOnly: true to read, or close the other writer.`,
      lockFile,
      holder,
    );
  }
  throw new DatasetLockedError(`${lockFile}: could not acquire the dataset lock`, lockFile, await readHolder(lockFile));
}
