/**
 * Whether the system clock can be trusted for timestamps. A Pi has no RTC: it
 * boots with the time it last saved, and only network time corrects it. Asks
 * systemd (timedatectl, or timesyncd's flag file); without either, a clock
 * earlier than this weir build is certainly wrong, a later one merely unproven.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Finding } from './finding.js';

export interface ClockProbeOptions {
  readonly now?: number;
  /** Epoch ms the clock cannot be earlier than; default: when this file was built. */
  readonly notBefore?: number;
  /** `timedatectl show` output, or undefined when it cannot run (no systemd). */
  readonly timedatectl?: () => string | undefined;
  readonly syncedFlag?: string;
}

export function probeClock(options: ClockProbeOptions = {}): Finding[] {
  const now = options.now ?? Date.now();
  const notBefore = options.notBefore ?? buildTime();
  const stamp = new Date(now).toISOString();
  if (now < notBefore) {
    return [{ check: 'clock.sync', status: 'fail', detail: `system time ${stamp} is before this weir build (${new Date(notBefore).toISOString()}): the clock was never set; readings would carry wrong times` }];
  }
  const shown = (options.timedatectl ?? runTimedatectl)();
  if (shown !== undefined) {
    const props = Object.fromEntries(shown.split('\n').map((l) => l.split('=', 2) as [string, string]).filter(([k]) => k));
    if (props.NTPSynchronized === 'yes') return [{ check: 'clock.sync', status: 'ok', detail: `synchronised (timedatectl; NTP ${props.NTP ?? '?'}), ${stamp}` }];
    return [{ check: 'clock.sync', status: 'warn', detail: `not synchronised (timedatectl: NTPSynchronized=${props.NTPSynchronized ?? '?'}, NTP=${props.NTP ?? '?'}); enable it: sudo timedatectl set-ntp true` }];
  }
  if (existsSync(options.syncedFlag ?? '/run/systemd/timesync/synchronized')) {
    return [{ check: 'clock.sync', status: 'ok', detail: `synchronised (systemd-timesyncd), ${stamp}` }];
  }
  return [{ check: 'clock.sync', status: 'warn', detail: `synchronisation state unknown (no timedatectl answer, no timesyncd flag); ${stamp} is after this build, so at least plausible` }];
}

function runTimedatectl(): string | undefined {
  try {
    return execFileSync('timedatectl', ['show'], { timeout: 3000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

function buildTime(): number {
  try {
    return statSync(fileURLToPath(import.meta.url)).mtimeMs;
  } catch {
    return 0;
  }
}
