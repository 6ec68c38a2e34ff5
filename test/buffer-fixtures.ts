/** Records, configs and temp dirs for the buffer suites. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import type { AlertRecord, ReadingRecord } from '../gateway/core/records.js';
import type { Clock } from '../gateway/core/contracts.js';
import { bufferConfig } from '../gateway/buffer/config.js';
import { openBuffer } from '../gateway/buffer/open.js';
import type { DiskBuffer } from '../gateway/buffer/buffer.js';

export function reading(seq: number, device = 'dev-1', ts = 1_700_000_000_000 + seq): ReadingRecord {
  return { v: 1, kind: 'reading', id: `gw-1-${seq}`, device, metric: 'temperature', value: 20 + (seq % 10), ts, receivedAt: ts, source: 'mqtt:embedded', tags: {} };
}

export function alert(seq: number, device = 'dev-1'): AlertRecord {
  return { v: 1, kind: 'alert', id: `gw-1-a${seq}`, rule: 'too-hot', key: device, device, state: 'raise', severity: 'critical', message: `hot ${seq}`, ts: 1_700_000_000_000 + seq, evidence: [], tags: {} };
}

/** A logger that keeps every line, for asserting what recovery reported. */
export function memoryLogger(): { log: Logger; lines: () => { level: number; msg: string; [k: string]: unknown }[] } {
  const out: string[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void out.push(s) });
  return { log, lines: () => out.map((l) => JSON.parse(l) as { level: number; msg: string }) };
}

export const silent = pino({ level: process.env.WEIR_TEST_LOG ?? 'silent' });

export function tempDir(): { dir: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'weir-buffer-'));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export function open(dir: string, options: { sinks?: string[]; config?: unknown; clock?: Clock; log?: Logger } = {}): Promise<DiskBuffer> {
  return openBuffer({
    dir,
    config: bufferConfig(options.config ?? {}),
    sinks: options.sinks ?? ['a', 'b'],
    log: options.log ?? silent,
    ...(options.clock ? { clock: options.clock } : {}),
  });
}

export function ids(batch: readonly { record: { id: string } }[]): string[] {
  return batch.map((b) => b.record.id);
}
