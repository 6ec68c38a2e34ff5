/** A plain value per message, as `sensors/{device}/{metric}` topics carry: `21.5`, `ON`, `open`. */
import type { DecodeContext, DecodeResult, Decoder } from '../../gateway/core/contracts.js';
import { parseScalar } from './scalars.js';

export class ValueDecoder implements Decoder {
  readonly kind = 'value';
  readonly #metric: string | undefined;

  constructor(metric?: string) {
    this.#metric = metric;
  }

  decode(payload: Buffer, context: DecodeContext): DecodeResult {
    const metric = context.params.metric ?? this.#metric;
    if (!metric) return { ok: false, code: 'NO_METRIC', message: 'no {metric} topic segment and no fixed metric' };
    const value = parseScalar(payload.toString('utf8'));
    if (value === undefined) return { ok: false, code: 'NOT_A_VALUE', message: 'expected a number, a boolean or a short string' };
    return { ok: true, readings: [{ device: context.params.device!, metric, value }] };
  }
}
