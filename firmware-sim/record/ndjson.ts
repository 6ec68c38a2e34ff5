/**
 * The reading line format `weir rules replay` reads, one JSON object a line:
 *   {"ts": epoch ms or ISO 8601, "device", "metric", "value", "tags"?}
 * Written and parsed here again (not imported from rules/): firmware-sim shares
 * device models with the gateway, not code.
 */
import type { Outgoing } from '../fleet/device.js';

export interface ReadingLine {
  readonly ts: number;
  readonly device: string;
  readonly metric: string;
  readonly value: number | boolean | string;
  readonly tags?: Readonly<Record<string, string>>;
}

/** The readings a message carries, as its device measured them (profile tags included). */
export function linesOf(out: Outgoing, profileTags?: Readonly<Record<string, string>>): ReadingLine[] {
  const tags = profileTags && Object.keys(profileTags).length > 0 ? profileTags : undefined;
  return out.metrics.flatMap((metric) => {
    const value = out.sample.values[metric];
    if (value === undefined) return [];
    return [{ ts: out.sample.ts, device: out.device, metric, value, ...(tags ? { tags } : {}) }];
  });
}

export function formatLine(line: ReadingLine): string {
  return JSON.stringify(line);
}

export type ParsedLine = { readonly ok: true; readonly line: ReadingLine } | { readonly ok: false; readonly reason: string };

export function parseLine(text: string): ParsedLine {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `not JSON: ${(e as Error).message}` };
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return { ok: false, reason: 'not a JSON object' };
  const { ts, device, metric, value, tags } = o as Record<string, unknown>;
  const time = typeof ts === 'number' ? ts : typeof ts === 'string' ? Date.parse(ts) : Number.NaN;
  if (!Number.isFinite(time)) return { ok: false, reason: '"ts" must be epoch milliseconds or an ISO 8601 time' };
  if (typeof device !== 'string' || device === '') return { ok: false, reason: '"device" must be a non-empty string' };
  if (typeof metric !== 'string' || metric === '') return { ok: false, reason: '"metric" must be a non-empty string' };
  if (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'string') return { ok: false, reason: '"value" must be a number, boolean or string' };
  if (tags !== undefined && (tags === null || typeof tags !== 'object' || Object.values(tags).some((v) => typeof v !== 'string'))) {
    return { ok: false, reason: '"tags" must be an object of strings' };
  }
  return { ok: true, line: { ts: Math.round(time), device, metric, value, ...(tags ? { tags: tags as Record<string, string> } : {}) } };
}
