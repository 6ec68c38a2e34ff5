/**
 * Serial ports this board has and whether weir may open them. USB adapters
 * are listed by their stable /dev/serial/by-id names; a missing configured port
 * fails, a port weir cannot open says which group would fix it (dialout).
 */
import { readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from './finding.js';
import { canReadWrite, groupAdvice, groupNames, nodeAccess, type CanAccess } from './access.js';

export interface SerialProbeOptions {
  /** Paths from the `serial:` config. */
  readonly configured: readonly string[];
  readonly devDir?: string;
  readonly groupFile?: string;
  readonly canAccess?: CanAccess;
}

const DISCOVERED = /^(ttyUSB\d+|ttyACM\d+|ttyAMA\d+|serial\d)$/;

export function probeSerialPorts(options: SerialProbeOptions): Finding[] {
  const dev = options.devDir ?? '/dev';
  const groups = groupNames(options.groupFile);
  const canAccess = options.canAccess ?? canReadWrite;
  const byTarget = new Map<string, string>();
  for (const name of list(join(dev, 'serial', 'by-id'))) {
    const link = join(dev, 'serial', 'by-id', name);
    byTarget.set(resolve(link), link);
  }
  const paths = new Set<string>([...byTarget.values(), ...list(dev).filter((n) => DISCOVERED.test(n)).map((n) => join(dev, n))]);
  // a by-id link and the node it points to are one port
  for (const p of [...paths]) if (!p.includes('/by-id/') && byTarget.has(resolve(p))) paths.delete(p);

  const findings: Finding[] = [];
  for (const path of options.configured) {
    const a = nodeAccess(path, groups, canAccess);
    if (!a) {
      findings.push({ check: 'serial.port', status: 'fail', detail: `${path} (configured) does not exist: unplugged, or another name? ls -l ${dev}/serial/by-id` });
      continue;
    }
    paths.delete(path);
    findings.push(portFinding(path, a, true));
  }
  for (const path of [...paths].sort()) {
    const a = nodeAccess(path, groups, canAccess);
    if (a) findings.push(portFinding(path, a, false));
  }
  if (findings.length === 0) findings.push({ check: 'serial.ports', status: 'ok', detail: `no serial ports found under ${dev} and none configured` });
  return findings;
}

function portFinding(path: string, a: NonNullable<ReturnType<typeof nodeAccess>>, configured: boolean): Finding {
  const target = resolve(path);
  const where = `${path}${target !== path ? ` -> ${target}` : ''}${configured ? ' (configured)' : ''}: ${a.mode} group ${a.group}`;
  if (a.readWrite) return { check: 'serial.port', status: 'ok', detail: `${where}, readable and writable` };
  return { check: 'serial.port', status: configured ? 'fail' : 'warn', detail: `${where}, not readable and writable by this user${groupAdvice(a)}` };
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function resolve(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
