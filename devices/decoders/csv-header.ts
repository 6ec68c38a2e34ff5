/**
 * CSV whose columns a header names: a payload of two lines, `temp,hum` then
 * `21.5,40`. Serial ports with `headerLine` keep the header the device printed
 * (Arduino sketches print one after every reset) and prepend it to each line.
 */
import type { DecodeContext, DecodeResult, Decoder } from '../../gateway/core/contracts.js';
import { CsvDecoder } from './csv.js';

export class CsvHeaderDecoder implements Decoder {
  readonly kind = 'csv-header';
  readonly #separator: string;
  readonly #timestampColumn: string | undefined;
  /** Header lines repeat for a device's lifetime; compile each once. */
  readonly #byHeader = new Map<string, CsvDecoder>();
  static readonly #MAX_HEADERS = 64;

  constructor(separator = ',', timestampColumn?: string) {
    this.#separator = separator;
    this.#timestampColumn = timestampColumn;
  }

  decode(payload: Buffer, context: DecodeContext): DecodeResult {
    const text = payload.toString('utf8');
    const nl = text.indexOf('\n');
    if (nl < 0) return { ok: false, code: 'NO_HEADER', message: 'expected a header line, then a line of values' };
    const header = text.slice(0, nl).replace(/\r$/, '');
    let decoder = this.#byHeader.get(header);
    if (!decoder) {
      const columns = header.split(this.#separator).map((c) => c.trim());
      if (columns.some((c) => c === '')) return { ok: false, code: 'BAD_HEADER', message: 'the header has an empty column name' };
      decoder = new CsvDecoder(columns, this.#separator, this.#timestampColumn);
      // a cache, not state: decoding the same bytes gives the same readings either way
      if (this.#byHeader.size >= CsvHeaderDecoder.#MAX_HEADERS) this.#byHeader.clear();
      this.#byHeader.set(header, decoder);
    }
    return decoder.decode(Buffer.from(text.slice(nl + 1), 'utf8'), context);
  }
}

/** True when a line looks like a header: no cell reads as a number. */
export function looksLikeHeader(line: string, separator = ','): boolean {
  const cells = line.split(separator).map((c) => c.trim());
  return cells.length > 0 && cells.every((c) => c !== '' && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(c));
}
