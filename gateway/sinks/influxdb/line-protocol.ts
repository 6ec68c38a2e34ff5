/**
 * Records to InfluxDB line protocol (v2 reference, "Line protocol" → "Special
 * characters"). Escaping follows what @influxdata/influxdb-client does, so a
 * name with spaces, commas, equals signs or newlines cannot split a line.
 *
 * Mapping (documented in the sink config):
 * - reading: measurement `{metric}` (configurable), tags = config tags < record
 *   tags < gateway, device, unit; one field (`value`, configurable) typed by the
 *   value: number → float (never `i`, so 1 and 1.5 never conflict), boolean →
 *   boolean, string → string; non-empty `flags` as a string field. Flags are a
 *   field, not a tag: a replayed point then overwrites the point it repeats
 *   instead of forking a new series.
 * - alert: measurement `weir_alert`; tags rule, key, device, severity; fields
 *   state, active (boolean), message, and the value under a name per type
 *   (value, value_bool, value_str), since all rules share one measurement and
 *   InfluxDB refuses a field whose type changes.
 */
import type { PipelineRecord } from '../../core/contracts.js';
import type { AlertRecord, ReadingRecord } from '../../core/records.js';
import { integerText } from '../../core/number-text.js';

const escapeMeasurement = (s: string) => s.replace(/[\\, \n\r\t]/g, escapeChar);
const escapeKey = (s: string) => s.replace(/[\\,= \n\r\t]/g, escapeChar);
const escapeString = (s: string) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;

function escapeChar(c: string): string {
  switch (c) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default:
      return `\\${c}`;
  }
}

/** InfluxDB drops points that use these as tag or field keys; weir renames them instead. */
const RESERVED_KEYS = new Set(['_measurement', '_field', 'time']);
const safeKey = (k: string) => (RESERVED_KEYS.has(k) ? `tag_${k}` : k);

export class EncodeError extends Error {}

export interface LineMapping {
  readonly gateway: string;
  readonly measurement: (r: ReadingRecord) => string;
  readonly field: (r: ReadingRecord) => string;
  readonly alertMeasurement: string;
  readonly tags: Readonly<Record<string, string>>;
}

export function encodeBatch(batch: readonly PipelineRecord[], mapping: LineMapping): string {
  let out = '';
  for (const r of batch) out += (r.kind === 'reading' ? encodeReading(r, mapping) : encodeAlert(r, mapping)) + '\n';
  return out;
}

export function encodeReading(r: ReadingRecord, m: LineMapping): string {
  const tags = { ...m.tags, ...r.tags, gateway: m.gateway, device: r.device, ...(r.unit ? { unit: r.unit } : {}) };
  const fields: [string, string][] = [[m.field(r), fieldValue(r.value, r.id)]];
  if (r.flags?.length) fields.push(['flags', escapeString(r.flags.join(','))]);
  return line(m.measurement(r), tags, fields, r.ts);
}

export function encodeAlert(a: AlertRecord, m: LineMapping): string {
  const tags = {
    ...m.tags,
    ...a.tags,
    gateway: m.gateway,
    rule: a.rule,
    key: a.key,
    severity: a.severity,
    ...(a.device ? { device: a.device } : {}),
  };
  const fields: [string, string][] = [
    ['state', escapeString(a.state)],
    ['active', a.state === 'raise' ? 'true' : 'false'],
    ['message', escapeString(a.message)],
  ];
  if (a.value !== undefined) {
    const name = typeof a.value === 'number' ? 'value' : typeof a.value === 'boolean' ? 'value_bool' : 'value_str';
    fields.push([name, fieldValue(a.value, a.id)]);
  }
  return line(m.alertMeasurement, tags, fields, a.ts);
}

function fieldValue(v: number | boolean | string, id: string): string {
  if (typeof v === 'string') return escapeString(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (!Number.isFinite(v)) throw new EncodeError(`record ${id} has a value line protocol cannot carry (${v})`);
  return String(v);
}

function line(measurement: string, tags: Record<string, string>, fields: [string, string][], ts: number): string {
  if (!measurement) throw new EncodeError('empty measurement name');
  let s = escapeMeasurement(measurement);
  // Sorted tag keys are what InfluxDB stores; sending them sorted saves it the work.
  const pairs = Object.entries(tags)
    .filter(([k, v]) => k && v) // line protocol has no empty tag keys or values
    .map(([k, v]) => [safeKey(k), v] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [k, v] of pairs) s += `,${escapeKey(k)}=${escapeKey(v)}`;
  s += ' ' + fields.map(([k, v]) => `${escapeKey(safeKey(k))}=${v}`).join(',');
  // every record's own timestamp: kept out of V8's number-string cache (number-text.ts)
  return `${s} ${integerText(Math.trunc(ts))}`;
}
