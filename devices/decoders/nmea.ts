/**
 * NMEA 0183 sentences from a GPS receiver: `$GPRMC,...*6A`. One sentence per
 * payload. Position, speed, course, altitude and fix quality become readings;
 * sentence types it does not know (proprietary `$P...`, `$GPTXT`) decode to no
 * readings rather than an error, because a GPS sends many a profile may ignore.
 */
import type { DecodeContext, DecodeResult, DecodedReading, Decoder } from '../../gateway/core/contracts.js';
import { nmeaChecksumProblem } from './checksums/nmea-checksum.js';

export const NMEA_SENTENCES = ['RMC', 'GGA', 'GLL', 'VTG', 'GSA', 'GSV'] as const;
export type NmeaSentence = (typeof NMEA_SENTENCES)[number];

const KNOT_MS = 1852 / 3600;

type Add = (metric: string, value: number | boolean, unit?: string) => void;
/** Adds readings for one sentence's fields; returns an error message for a malformed sentence. */
type SentenceParser = (f: readonly string[], add: Add) => string | undefined;

export class NmeaDecoder implements Decoder {
  readonly kind = 'nmea';
  readonly #sentences: ReadonlySet<string>;
  readonly #requireChecksum: boolean;

  constructor(options: { sentences?: readonly NmeaSentence[]; requireChecksum?: boolean } = {}) {
    this.#sentences = new Set(options.sentences ?? NMEA_SENTENCES);
    this.#requireChecksum = options.requireChecksum ?? true;
  }

  decode(payload: Buffer, context: DecodeContext): DecodeResult {
    const text = payload.toString('latin1').trim();
    const problem = nmeaChecksumProblem(text, this.#requireChecksum);
    if (problem) return { ok: false, code: problem.code, message: problem.message };
    const star = text.lastIndexOf('*');
    const fields = text.slice(1, star < 0 ? undefined : star).split(',');
    const address = fields[0]!;
    // `$P...` is proprietary; otherwise two talker letters (GP, GN, GL...) then the type
    const type = address.startsWith('P') ? '' : address.slice(2);
    const parse = PARSERS[type as NmeaSentence] as SentenceParser | undefined;
    if (!parse || !this.#sentences.has(type)) return { ok: true, readings: [] };

    const device = context.params.device!;
    const readings: DecodedReading[] = [];
    const ts = type === 'RMC' ? rmcTime(fields[1], fields[9]) : undefined;
    const add: Add = (metric, value, unit) =>
      readings.push({ device, metric, value, ...(unit !== undefined ? { unit } : {}), ...(ts !== undefined ? { ts } : {}) });
    const malformed = parse(fields, add);
    if (malformed) return { ok: false, code: 'MALFORMED_SENTENCE', message: `${address}: ${malformed}` };
    return { ok: true, readings };
  }
}

const PARSERS: Record<NmeaSentence, SentenceParser> = {
  RMC: (f, add) => {
    if (f.length < 10) return 'too few fields';
    const valid = f[2] === 'A';
    add('valid', valid);
    if (!valid) return undefined;
    const pos = position(f[3], f[4], f[5], f[6]);
    if (typeof pos === 'string') return pos;
    addPosition(pos, add);
    optional(f[7], (v) => add('speed', round(v * KNOT_MS, 3), 'm/s'));
    optional(f[8], (v) => add('course', v, 'deg'));
    return undefined;
  },
  GGA: (f, add) => {
    if (f.length < 12) return 'too few fields';
    const quality = Number(f[6]);
    if (!Number.isInteger(quality)) return `fix quality ${JSON.stringify(f[6])} is not a number`;
    add('fix_quality', quality);
    optional(f[7], (v) => add('satellites', v));
    optional(f[8], (v) => add('hdop', v));
    if (quality === 0) return undefined;
    const pos = position(f[2], f[3], f[4], f[5]);
    if (typeof pos === 'string') return pos;
    addPosition(pos, add);
    optional(f[9], (v) => add('altitude', v, 'm'));
    return undefined;
  },
  GLL: (f, add) => {
    if (f.length < 7) return 'too few fields';
    const valid = f[6] === 'A';
    add('valid', valid);
    if (!valid) return undefined;
    const pos = position(f[1], f[2], f[3], f[4]);
    if (typeof pos === 'string') return pos;
    addPosition(pos, add);
    return undefined;
  },
  VTG: (f, add) => {
    if (f.length < 9) return 'too few fields';
    optional(f[1], (v) => add('course', v, 'deg'));
    // km/h is the more precise of the two speeds a receiver prints
    if (f[7]) optional(f[7], (v) => add('speed', round(v / 3.6, 3), 'm/s'));
    else optional(f[5], (v) => add('speed', round(v * KNOT_MS, 3), 'm/s'));
    return undefined;
  },
  GSA: (f, add) => {
    if (f.length < 18) return 'too few fields';
    const fixType = Number(f[2]);
    if (!Number.isInteger(fixType)) return `fix type ${JSON.stringify(f[2])} is not a number`;
    add('fix_type', fixType);
    add('satellites_used', f.slice(3, 15).filter((s) => s !== '').length);
    optional(f[15], (v) => add('pdop', v));
    optional(f[16], (v) => add('hdop', v));
    optional(f[17], (v) => add('vdop', v));
    return undefined;
  },
  GSV: (f, add) => {
    if (f.length < 4) return 'too few fields';
    // every message of a GSV group repeats the count; take it once
    if (f[2] === '1') optional(f[3], (v) => add('satellites_in_view', v));
    return undefined;
  },
};

function addPosition(pos: { lat: number; lon: number } | undefined, add: Add): void {
  if (!pos) return;
  add('lat', pos.lat, 'deg');
  add('lon', pos.lon, 'deg');
}

/** `4807.038,N,01131.000,E` to signed decimal degrees; undefined when empty, a message when unreadable. */
function position(lat = '', ns = '', lon = '', ew = ''): { lat: number; lon: number } | undefined | string {
  if (lat === '' && lon === '') return undefined;
  const la = degrees(lat, 2);
  const lo = degrees(lon, 3);
  if (la === undefined || la > 90 || (ns !== 'N' && ns !== 'S')) return `unreadable latitude ${JSON.stringify(`${lat},${ns}`)}`;
  if (lo === undefined || lo > 180 || (ew !== 'E' && ew !== 'W')) return `unreadable longitude ${JSON.stringify(`${lon},${ew}`)}`;
  return { lat: round(ns === 'S' ? -la : la, 7), lon: round(ew === 'W' ? -lo : lo, 7) };
}

/** `dddmm.mmmm` with `degreeDigits` leading degree digits. */
function degrees(text: string, degreeDigits: number): number | undefined {
  const m = /^(\d+)(\.\d+)?$/.exec(text);
  if (!m || m[1]!.length !== degreeDigits + 2) return undefined;
  const deg = Number(text.slice(0, degreeDigits));
  const min = Number(text.slice(degreeDigits));
  return min >= 60 ? undefined : deg + min / 60;
}

/** hhmmss.ss plus ddmmyy to epoch ms (UTC). Two-digit years below 80 are 20xx, as receivers since 1980 mean them. */
function rmcTime(time = '', date = ''): number | undefined {
  const t = /^(\d{2})(\d{2})(\d{2})(\.\d+)?$/.exec(time);
  const d = /^(\d{2})(\d{2})(\d{2})$/.exec(date);
  if (!t || !d) return undefined;
  const yy = Number(d[3]);
  const ms = Math.round(Number(t[4] ?? 0) * 1000);
  const epoch = Date.UTC(yy < 80 ? 2000 + yy : 1900 + yy, Number(d[2]) - 1, Number(d[1]), Number(t[1]), Number(t[2]), Number(t[3]), ms);
  return Number.isNaN(epoch) ? undefined : epoch;
}

function optional(text: string | undefined, use: (v: number) => void): void {
  if (text === undefined || text === '') return;
  const v = Number(text);
  if (Number.isFinite(v)) use(v);
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
