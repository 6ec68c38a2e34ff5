/**
 * JSON payloads: selected fields by dotted path, or every numeric and boolean
 * leaf (Tasmota's `{"AM2301":{"Temperature":21.4}}` gives `AM2301.Temperature`).
 */
import type { DecodeContext, DecodeResult, DecodedReading, Decoder } from '../../gateway/core/contracts.js';
import { parseTimestamp } from './scalars.js';

/** One payload may not explode into more readings than this. */
export const MAX_READINGS_PER_PAYLOAD = 256;

export interface JsonDecoderSettings {
  readonly fields?: Readonly<Record<string, string>>;
  readonly exclude?: readonly string[];
  readonly timestamp?: { readonly field: string; readonly format: 'epoch-ms' | 'epoch-s' | 'iso8601' | 'auto' };
}

export class JsonDecoder implements Decoder {
  readonly kind = 'json';
  readonly #fields: [metric: string, path: string[]][] | undefined;
  readonly #exclude: Set<string>;
  readonly #timestamp: JsonDecoderSettings['timestamp'];

  constructor(settings: JsonDecoderSettings) {
    this.#fields = settings.fields && Object.entries(settings.fields).map(([m, p]) => [m, p.split('.')]);
    this.#timestamp = settings.timestamp;
    this.#exclude = new Set([...(settings.exclude ?? []), ...(settings.timestamp ? [settings.timestamp.field] : [])]);
  }

  decode(payload: Buffer, context: DecodeContext): DecodeResult {
    let data: unknown;
    try {
      data = JSON.parse(payload.toString('utf8'));
    } catch (e) {
      return { ok: false, code: 'INVALID_JSON', message: (e as Error).message };
    }
    const device = context.params.device!;
    if (typeof data === 'number' || typeof data === 'boolean') {
      const metric = context.params.metric;
      if (!metric) return { ok: false, code: 'NO_METRIC', message: 'a bare JSON value needs a {metric} topic segment' };
      return { ok: true, readings: [{ device, metric, value: data }] };
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      return { ok: false, code: 'NOT_AN_OBJECT', message: 'expected a JSON object' };
    }
    let ts: number | undefined;
    if (this.#timestamp) {
      const raw = pick(data, this.#timestamp.field.split('.'));
      if (raw !== undefined) {
        ts = parseTimestamp(raw, this.#timestamp.format);
        if (ts === undefined) return { ok: false, code: 'BAD_TIMESTAMP', message: `unreadable timestamp ${JSON.stringify(raw)}` };
      }
    }
    const readings: DecodedReading[] = [];
    const add = (metric: string, value: number | boolean) =>
      readings.push(ts === undefined ? { device, metric, value } : { device, metric, value, ts });
    if (this.#fields) {
      for (const [metric, path] of this.#fields) {
        const v = pick(data, path);
        if (typeof v === 'number' || typeof v === 'boolean') add(metric, v);
      }
    } else if (!collectLeaves(data, '', this.#exclude, add)) {
      return { ok: false, code: 'TOO_MANY_METRICS', message: `more than ${MAX_READINGS_PER_PAYLOAD} metrics in one payload` };
    }
    if (readings.length === 0) return { ok: false, code: 'NO_METRICS', message: 'no numeric or boolean values in the payload' };
    return { ok: true, readings };
  }
}

function pick(data: unknown, path: readonly string[]): unknown {
  let node = data;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Walks numeric/boolean leaves; false when the payload has too many of them. */
function collectLeaves(node: object, prefix: string, exclude: Set<string>, add: (m: string, v: number | boolean) => number): boolean {
  // for-in, not Object.entries: no [key, value] arrays per payload (JSON.parse objects have no inherited keys)
  for (const key in node) {
    const value = (node as Record<string, unknown>)[key];
    const path = prefix ? `${prefix}.${key}` : key;
    if (exclude.has(path)) continue;
    if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') {
      if (add(path, value) > MAX_READINGS_PER_PAYLOAD) return false;
    } else if (value !== null && typeof value === 'object') {
      if (!collectLeaves(value, path, exclude, add)) return false;
    }
  }
  return true;
}
