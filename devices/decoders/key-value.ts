/** `temp=21.5,hum=40` or `temp=21.5 hum=40 ts=1700000000`. */
import type { DecodeContext, DecodeResult, DecodedReading, Decoder } from '../../gateway/core/contracts.js';
import { parseScalar, parseTimestamp } from './scalars.js';
import { MAX_READINGS_PER_PAYLOAD } from './json.js';

const DEFAULT_SEPARATOR = /[,;&\s]+/;

export class KeyValueDecoder implements Decoder {
  readonly kind = 'kv';
  readonly #separator: string | RegExp;
  readonly #timestampKey: string;

  constructor(pairSeparator?: string, timestampKey = 'ts') {
    this.#separator = pairSeparator ?? DEFAULT_SEPARATOR;
    this.#timestampKey = timestampKey;
  }

  decode(payload: Buffer, context: DecodeContext): DecodeResult {
    const parts = payload.toString('utf8').trim().split(this.#separator).filter((p) => p.length > 0);
    if (parts.length === 0) return { ok: false, code: 'EMPTY_PAYLOAD', message: 'no key=value pairs' };
    if (parts.length > MAX_READINGS_PER_PAYLOAD) return { ok: false, code: 'TOO_MANY_METRICS', message: 'too many pairs' };
    let ts: number | undefined;
    const pairs: [string, number | boolean | string][] = [];
    for (const part of parts) {
      const eq = part.indexOf('=');
      if (eq <= 0) return { ok: false, code: 'NOT_KEY_VALUE', message: `${JSON.stringify(part.slice(0, 40))} is not key=value` };
      const key = part.slice(0, eq);
      const text = part.slice(eq + 1);
      if (key === this.#timestampKey) {
        ts = parseTimestamp(text, 'auto');
        if (ts === undefined) return { ok: false, code: 'BAD_TIMESTAMP', message: `unreadable timestamp ${JSON.stringify(text)}` };
        continue;
      }
      const value = parseScalar(text);
      if (value === undefined) return { ok: false, code: 'NOT_A_VALUE', message: `${key} has no readable value` };
      pairs.push([key, value]);
    }
    const device = context.params.device!;
    const readings: DecodedReading[] = pairs.map(([metric, value]) => (ts === undefined ? { device, metric, value } : { device, metric, value, ts }));
    return { ok: true, readings };
  }
}
