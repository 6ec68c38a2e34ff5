/**
 * Payload formats, one per decoder kind of the device profile: what a device of
 * that type prints, so the gateway's decoder of the same profile reads it back.
 * Each format also knows how to break itself (malformed) and how to grow
 * (oversized) in a way that decoder notices or tolerates.
 */
import type { DeviceProfile } from '../../devices/profiles/schema.js';
import type { Random } from '../random.js';
import { withNmeaChecksum } from '../../devices/decoders/checksums/nmea-checksum.js';
import { BinaryEncoder } from './binary.js';
import { fixFrom, nmeaSentence, type NmeaSentence } from './nmea.js';
import { fillTopic, topicParams, type Body, type Sample } from './types.js';

export interface Format {
  /** Metrics the format needs a value for (columns, layout fields, mapped JSON fields). */
  readonly required: readonly string[];
  encode(sample: Sample, metrics: readonly string[]): Body[];
  /** A payload the profile's decoder rejects. */
  malformed(body: Body, random: Random): Buffer;
  /** `body` grown to `bytes`; `decodable` says whether the decoder still reads it. */
  oversized(body: Body, bytes: number): { payload: Buffer; decodable: boolean };
  /** Frames a serial device prints when its port opens (a CSV header line). */
  preamble(metrics: readonly string[]): Buffer[];
}

export interface FormatOptions {
  /** A serial port with `headerLine` keeps the header itself; the data lines carry none. */
  readonly headerLine?: boolean;
}

export function createFormat(profile: DeviceProfile, options: FormatOptions = {}): Format {
  const d = profile.decoder;
  const topicOf = (device: string, metric?: string) =>
    profile.topic === undefined ? undefined : fillTopic(profile.topic, metric === undefined ? { device } : { device, metric });
  const stamp = timestampWriter(profile);
  switch (d.kind) {
    case 'json': {
      const fields = d.fields;
      return {
        required: fields ? Object.keys(fields) : [],
        encode: (s, metrics) => {
          const o: Record<string, unknown> = {};
          const used: string[] = [];
          for (const m of metrics) {
            const path = fields ? fields[m] : m;
            if (path === undefined || s.values[m] === undefined) continue;
            setPath(o, path, s.values[m]);
            used.push(m);
          }
          if (profile.timestamp) setPath(o, profile.timestamp.field, stamp(s.ts));
          return [{ topic: topicOf(s.device), payload: Buffer.from(JSON.stringify(o)), metrics: used }];
        },
        // cut mid-object: INVALID_JSON, as a truncated write or a full buffer gives
        malformed: (b, r) => b.payload.subarray(0, Math.max(1, Math.floor(b.payload.length * (0.3 + 0.4 * r())))),
        oversized: (b, bytes) => {
          const text = b.payload.toString();
          const padLength = Math.max(0, bytes - text.length - 10);
          // a string leaf the decoder skips: the readings survive, the size does not fit small buffers
          return { payload: Buffer.from(`${text.slice(0, -1)}${text.length > 2 ? ',' : ''}"pad":"${'x'.repeat(padLength)}"}`), decodable: true };
        },
        preamble: () => [],
      };
    }
    case 'value': {
      const perMetric = profile.topic !== undefined && topicParams(profile.topic).includes('metric');
      const fixed = d.metric;
      return {
        required: !perMetric && fixed !== undefined ? [fixed] : [],
        encode: (s, metrics) =>
          (perMetric ? metrics : fixed !== undefined ? [fixed] : metrics.slice(0, 1))
            .filter((m) => s.values[m] !== undefined)
            .map((m) => ({ topic: topicOf(s.device, perMetric ? m : undefined), payload: Buffer.from(String(s.values[m])), metrics: [m] })),
        // longer than a state name may be: NOT_A_VALUE
        malformed: (_b, r) => Buffer.from(`ERR ${'#'.repeat(130 + Math.floor(r() * 20))}`),
        oversized: (b, bytes) => ({ payload: padText(b.payload, bytes), decodable: true }),
        preamble: () => [],
      };
    }
    case 'csv':
    case 'csv-header': {
      const separator = d.separator ?? ',';
      const tsColumn = profile.timestamp?.field;
      const columns = d.kind === 'csv' ? d.columns : undefined;
      const header = (metrics: readonly string[]) => [...metrics, ...(tsColumn ? [tsColumn] : [])];
      return {
        required: columns ? columns.filter((c) => c !== '-' && c !== tsColumn) : [],
        encode: (s, metrics) => {
          const cols = columns ?? header(metrics);
          const cells = cols.map((c) => (c === tsColumn ? String(s.ts) : c === '-' ? '0' : String(s.values[c] ?? '')));
          const line = cells.join(separator);
          const withHeader = d.kind === 'csv-header' && !options.headerLine ? `${cols.join(separator)}\n${line}` : line;
          return [{ topic: topicOf(s.device), payload: Buffer.from(withHeader), metrics: cols.filter((c) => c !== '-' && c !== tsColumn) }];
        },
        // a column lost: COLUMN_COUNT
        malformed: (b) => {
          const text = b.payload.toString();
          const cut = text.lastIndexOf(separator);
          return Buffer.from(cut > 0 ? text.slice(0, cut) : `${text}${separator}${separator}`);
        },
        oversized: (b, bytes) => ({ payload: padText(b.payload, bytes), decodable: true }),
        preamble: (metrics) => (d.kind === 'csv-header' && options.headerLine ? [Buffer.from(header(metrics).join(separator))] : []),
      };
    }
    case 'kv': {
      const separator = d.pairSeparator ?? ',';
      const tsKey = profile.timestamp?.field;
      return {
        required: [],
        encode: (s, metrics) => {
          const pairs = metrics.filter((m) => s.values[m] !== undefined).map((m) => `${m}=${s.values[m]}`);
          if (tsKey) pairs.push(`${tsKey}=${s.ts}`);
          return [{ topic: topicOf(s.device), payload: Buffer.from(pairs.join(separator)), metrics: metrics.filter((m) => s.values[m] !== undefined) }];
        },
        malformed: () => Buffer.from('garbled'), // NOT_KEY_VALUE
        oversized: (b, bytes) => ({ payload: padText(b.payload, bytes), decodable: true }),
        preamble: () => [],
      };
    }
    case 'nmea': {
      const sentences: readonly NmeaSentence[] = d.sentences ?? ['RMC', 'GGA', 'GSA'];
      return {
        required: [],
        encode: (s) => {
          const fix = fixFrom(s.values);
          return sentences.map((type) => {
            const { text, metrics } = nmeaSentence(type, fix, s.ts);
            return { topic: topicOf(s.device), payload: Buffer.from(text, 'latin1'), metrics };
          });
        },
        // checksum fine, fields missing: MALFORMED_SENTENCE, unlike corruption, which the checksum catches
        malformed: (b) => {
          const text = b.payload.toString('latin1');
          return Buffer.from(withNmeaChecksum(text.slice(0, text.lastIndexOf('*')).split(',').slice(0, 2).join(',')), 'latin1');
        },
        oversized: (b, bytes) => ({ payload: padText(b.payload, bytes), decodable: false }),
        preamble: () => [],
      };
    }
    case 'binary': {
      const encoder = new BinaryEncoder(d.layout);
      return {
        required: encoder.metrics,
        encode: (s) => [{ topic: topicOf(s.device), payload: encoder.encode(s.values), metrics: encoder.metrics }],
        malformed: (b) => b.payload.subarray(0, Math.max(0, b.payload.length - 1)), // WRONG_LENGTH
        oversized: (b, bytes) => ({ payload: Buffer.concat([b.payload, Buffer.alloc(Math.max(0, bytes - b.payload.length))]), decodable: d.exactLength === false }),
        preamble: () => [],
      };
    }
  }
}

function timestampWriter(profile: DeviceProfile): (ts: number) => number | string {
  switch (profile.timestamp?.format) {
    case 'epoch-s':
      return (ts) => ts / 1000;
    case 'iso8601':
      return (ts) => new Date(ts).toISOString();
    default:
      return (ts) => ts;
  }
}

function setPath(o: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = o;
  for (const k of keys.slice(0, -1)) {
    const next = node[k];
    node = (typeof next === 'object' && next !== null ? next : (node[k] = {})) as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

/** Trailing spaces: text decoders trim them, so the payload stays readable at any size. */
function padText(payload: Buffer, bytes: number): Buffer {
  return Buffer.concat([payload, Buffer.alloc(Math.max(0, bytes - payload.length), 0x20)]);
}
