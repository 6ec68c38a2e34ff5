/** One CSV line per message, columns named by the profile: `21.5,40.2,3.7`. */
import type { DecodeContext, DecodeResult, DecodedReading, Decoder } from '../../gateway/core/contracts.js';
import { parseScalar, parseTimestamp } from './scalars.js';

export class CsvDecoder implements Decoder {
  readonly kind = 'csv';
  readonly #columns: readonly string[];
  readonly #separator: string;
  readonly #timestampColumn: string | undefined;

  constructor(columns: readonly string[], separator: string, timestampColumn?: string) {
    this.#columns = columns;
    this.#separator = separator;
    this.#timestampColumn = timestampColumn;
  }

  decode(payload: Buffer, context: DecodeContext): DecodeResult {
    const cells = payload.toString('utf8').trim().split(this.#separator);
    if (cells.length !== this.#columns.length) {
      return { ok: false, code: 'COLUMN_COUNT', message: `expected ${this.#columns.length} columns, got ${cells.length}` };
    }
    let ts: number | undefined;
    const pairs: [string, number | boolean | string][] = [];
    for (let i = 0; i < cells.length; i++) {
      const column = this.#columns[i]!;
      if (column === '-') continue;
      if (column === this.#timestampColumn) {
        ts = parseTimestamp(cells[i]!.trim(), 'auto');
        if (ts === undefined) return { ok: false, code: 'BAD_TIMESTAMP', message: `unreadable timestamp in column ${column}` };
        continue;
      }
      const value = parseScalar(cells[i]!);
      if (value === undefined) return { ok: false, code: 'NOT_A_VALUE', message: `column ${column} is empty or unreadable` };
      pairs.push([column, value]);
    }
    const device = context.params.device!;
    const readings: DecodedReading[] = pairs.map(([metric, value]) => (ts === undefined ? { device, metric, value } : { device, metric, value, ts }));
    return { ok: true, readings };
  }
}
