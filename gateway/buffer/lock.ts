/**
 * One writer per buffer directory: two gateways appending to one log would
 * interleave frames and corrupt it. Node has no flock, so the lock is a file
 * holding the owner's pid and the kernel boot id; a lock left by a process
 * that is gone (crash, kill -9, power cut) is taken over, never an obstacle.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WeirError } from '../core/errors.js';

const LOCK_NAME = 'LOCK';

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface DirLock {
  release(): void;
}

export function lockDir(dir: string): DirLock {
  const file = join(dir, LOCK_NAME);
  const me = `${process.pid} ${bootId()}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, me, { flag: 'wx' });
      return { release: () => releaseIfMine(file, me) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new WeirError('BUFFER_OPEN_FAILED', `cannot create ${file}: ${(e as Error).message}`, { cause: e });
    }
    const [pidText, boot] = readOwner(file);
    const pid = Number.parseInt(pidText ?? '', 10);
    // After a reboot the pid may belong to anyone: the boot id tells the lock is from a previous life.
    if (Number.isInteger(pid) && pid !== process.pid && boot === bootId() && alive(pid)) {
      throw new WeirError('BUFFER_LOCKED', `buffer ${dir} is in use by process ${pid} (a second gateway on the same dataDir?)`);
    }
    try {
      unlinkSync(file);
    } catch {
      // someone else took it over first; try again
    }
  }
  throw new WeirError('BUFFER_LOCKED', `could not take the lock ${file}`);
}

function readOwner(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').trim().split(' ');
  } catch {
    return [];
  }
}

function releaseIfMine(file: string, me: string): void {
  try {
    if (readFileSync(file, 'utf8') === me) unlinkSync(file);
  } catch {
    // already gone
  }
}
