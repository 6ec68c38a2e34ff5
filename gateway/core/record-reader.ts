/**
 * Reads any record version weir has ever written. Consumers (and weir's own
 * replay tools) call this instead of trusting `JSON.parse`, so a record written
 * by an older gateway stays readable after an upgrade.
 */
import { Value } from '@sinclair/typebox/value';
import { ReadingRecordV1, AlertRecordV1, type ReadingRecord, type AlertRecord } from './records.js';

export type AnyRecord = ReadingRecord | AlertRecord;

/** Every version by kind; a v2 adds an entry and an upgrade function to the latest shape. */
const READERS = {
  reading: { 1: ReadingRecordV1 },
  alert: { 1: AlertRecordV1 },
} as const;

export type ReadResult = { ok: true; record: AnyRecord } | { ok: false; error: string };

export function readRecord(input: string | unknown): ReadResult {
  let data: unknown = input;
  if (typeof input === 'string') {
    try {
      data = JSON.parse(input);
    } catch (e) {
      return { ok: false, error: `not JSON: ${(e as Error).message}` };
    }
  }
  if (typeof data !== 'object' || data === null) return { ok: false, error: 'not an object' };
  const { kind, v } = data as { kind?: unknown; v?: unknown };
  const versions = READERS[kind as keyof typeof READERS] as Record<number, typeof ReadingRecordV1 | typeof AlertRecordV1> | undefined;
  if (!versions) return { ok: false, error: `unknown record kind ${JSON.stringify(kind)}` };
  const schema = versions[v as number];
  if (!schema) return { ok: false, error: `unknown ${String(kind)} version ${JSON.stringify(v)}` };
  if (!Value.Check(schema, data)) {
    const first = Value.Errors(schema, data).First();
    return { ok: false, error: `invalid ${String(kind)} v${String(v)}: ${first?.path ?? ''} ${first?.message ?? ''}`.trim() };
  }
  return { ok: true, record: data as AnyRecord };
}
