/** Parsing the command line's small languages: rates (`10/s`, `600/m/device`), seeds, counts. */
import { DURATION_PATTERN, parseDuration } from '../../gateway/core/units.js';
import { SimError } from '../errors.js';

export interface Rate {
  /** Messages per second. */
  readonly perSecond: number;
  /** True for `/device`: each device sends at this rate; else the fleet as a whole does. */
  readonly perDevice: boolean;
}

const RATE = /^(\d+(?:\.\d+)?)\/(s|m|h)(\/device)?$/;
const PER = { s: 1, m: 60, h: 3600 } as const;

export function parseRate(text: string): Rate {
  const m = RATE.exec(text.trim());
  if (!m) throw new SimError('BAD_OPTION', `--rate ${JSON.stringify(text)}: use messages per time, e.g. 10/s for the fleet or 2/s/device per device`);
  const perSecond = Number(m[1]) / PER[m[2] as keyof typeof PER];
  if (perSecond <= 0) throw new SimError('BAD_OPTION', '--rate must be above 0');
  return { perSecond, perDevice: m[3] !== undefined };
}

export function parseDurationOption(name: string, text: string): number {
  if (!new RegExp(DURATION_PATTERN).test(text)) throw new SimError('BAD_OPTION', `${name} ${JSON.stringify(text)}: use a duration such as 500ms, 30s, 5m, 1h`);
  return parseDuration(text);
}

export function parseCount(name: string, text: string | number, max = 1_000_000): number {
  const n = typeof text === 'number' ? text : Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new SimError('BAD_OPTION', `${name} ${JSON.stringify(text)}: use a whole number from 1 to ${max}`);
  return n;
}

/** Integers stay numbers (seed 42 and "42" are the same run); anything else is a string seed. */
export function parseSeed(text: string | number): number | string {
  return typeof text === 'number' || /^-?\d+$/.test(text) ? Number(text) : text;
}

export function parseQos(text: string | number): 0 | 1 | 2 {
  const n = Number(text);
  if (n !== 0 && n !== 1 && n !== 2) throw new SimError('BAD_OPTION', `--qos ${JSON.stringify(text)}: use 0, 1 or 2`);
  return n;
}
