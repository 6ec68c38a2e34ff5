/**
 * The data directory: present or creatable, writable (a real write, fsynced,
 * not just permission bits: a read-only remount after SD card errors passes
 * access() checks), and with room for the buffer to grow.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Finding } from './finding.js';

export interface DataDirProbeOptions {
  readonly dir: string;
  /** Defaults: warn below 512 MiB, fail below 64 MiB. */
  readonly warnBelowBytes?: number;
  readonly failBelowBytes?: number;
}

const MiB = 1024 * 1024;

export function probeDataDir(options: DataDirProbeOptions): Finding[] {
  const { dir } = options;
  const findings: Finding[] = [];
  const probe = join(dir, `.weir-doctor-${process.pid}`);
  try {
    makeDirs(resolve(dir));
    const fd = openSync(probe, 'w');
    try {
      writeSync(fd, 'weir doctor write test\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
      unlinkSync(probe);
    }
    findings.push({ check: 'data-dir.writable', status: 'ok', detail: `${dir} is writable` });
  } catch (e) {
    findings.push({ check: 'data-dir.writable', status: 'fail', detail: `${dir} is not writable: ${(e as Error).message}` });
    return findings;
  }
  const fs = statfsSync(dir);
  const free = fs.bavail * fs.bsize;
  const total = fs.blocks * fs.bsize;
  const warn = options.warnBelowBytes ?? 512 * MiB;
  const fail = options.failBelowBytes ?? 64 * MiB;
  const status = free < fail ? 'fail' : free < warn ? 'warn' : 'ok';
  findings.push({ check: 'data-dir.free-space', status, detail: `${mib(free)} free of ${mib(total)} on the filesystem of ${dir}${status === 'ok' ? '' : ` (below ${mib(status === 'fail' ? fail : warn)})`}` });
  return findings;
}

/** mkdir -p without Node's recursive mode, which never returns under /proc (Node 20). */
function makeDirs(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) makeDirs(parent);
  mkdirSync(dir);
}

function mib(bytes: number): string {
  return `${Math.round(bytes / MiB)} MiB`;
}
