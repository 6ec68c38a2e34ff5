/** What `weir doctor` reports: one finding per check, worst first when printed. */

export type FindingStatus = 'ok' | 'warn' | 'fail';

export interface Finding {
  /** Stable, dotted: `serial.port`, `gpio.sysfs`, `data-dir.free-space`, `clock.sync`. */
  readonly check: string;
  readonly status: FindingStatus;
  readonly detail: string;
}

const RANK: Record<FindingStatus, number> = { ok: 0, warn: 1, fail: 2 };

export function worst(findings: readonly Finding[]): FindingStatus {
  return findings.reduce<FindingStatus>((w, f) => (RANK[f.status] > RANK[w] ? f.status : w), 'ok');
}

/** Plain text for a terminal: `[fail] serial.port  /dev/ttyUSB0 ...`. */
export function formatFindings(findings: readonly Finding[]): string {
  const width = Math.max(0, ...findings.map((f) => f.check.length));
  return findings.map((f) => `[${f.status.padEnd(4)}] ${f.check.padEnd(width)}  ${f.detail}`).join('\n');
}

/** 0 when nothing failed, 1 otherwise (warnings do not fail `weir doctor`). */
export function exitCodeFor(findings: readonly Finding[]): number {
  return worst(findings) === 'fail' ? 1 : 0;
}
