/** Turning payload text into reading values and timestamps, shared by the decoders. */

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const TRUE_WORDS = new Set(['true', 'on', 'ON', 'True', 'TRUE', 'open', 'OPEN']);
const FALSE_WORDS = new Set(['false', 'off', 'OFF', 'False', 'FALSE', 'closed', 'CLOSED']);
/** Longer strings are almost always a wrong profile, not a state name. */
export const MAX_STRING_VALUE = 128;

/** A number, boolean, or short state string; undefined when the text is none of these. */
export function parseScalar(text: string): number | boolean | string | undefined {
  const t = text.trim();
  if (t.length === 0) return undefined;
  if (NUMBER.test(t)) return Number(t);
  if (TRUE_WORDS.has(t)) return true;
  if (FALSE_WORDS.has(t)) return false;
  return t.length <= MAX_STRING_VALUE ? t : undefined;
}

/** Epoch ms for a payload timestamp, or undefined if it is not one. */
export function parseTimestamp(raw: unknown, format: 'epoch-ms' | 'epoch-s' | 'iso8601' | 'auto'): number | undefined {
  if (typeof raw === 'string' && format !== 'iso8601' && NUMBER.test(raw.trim())) raw = Number(raw);
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) return undefined;
    if (format === 'epoch-s' || (format === 'auto' && Math.abs(raw) < 1e11)) return Math.round(raw * 1000);
    if (format === 'iso8601') return undefined;
    return Math.round(raw);
  }
  if (typeof raw === 'string' && (format === 'iso8601' || format === 'auto')) {
    const ms = Date.parse(raw);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}
