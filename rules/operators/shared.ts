/** Small helpers the operator files share. */
import type { ReadingRecord } from '../../gateway/core/records.js';
import type { ReadingValue } from '../types.js';

/** Placeholders every alert offers: rule, key, severity, device, metric, value, ts, tags.<name>, labels.<name>. */
export function isCommonPlaceholder(path: readonly string[]): boolean {
  const root = path[0]!;
  if (path.length === 1) return ['rule', 'key', 'severity', 'device', 'metric', 'value', 'ts'].includes(root);
  return path.length === 2 && (root === 'tags' || root === 'labels');
}

/** A reading as evidence: enough to see why, small enough to ship. */
export interface ReadingEvidence {
  readonly ts: number;
  readonly device: string;
  readonly metric: string;
  readonly value: ReadingValue;
}

export function evidenceOf(r: ReadingRecord, ts = r.ts): ReadingEvidence {
  return { ts, device: r.device, metric: r.metric, value: r.value };
}

export function readingVars(r: ReadingRecord): Record<string, unknown> {
  return { device: r.device, metric: r.metric, value: r.value, ts: r.ts, tags: r.tags };
}

/** Numbers for arithmetic: booleans count as 1/0 (door-open ratios); strings are not numbers. */
export function numeric(v: ReadingValue): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}
