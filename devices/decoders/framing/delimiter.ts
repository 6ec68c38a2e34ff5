/** Lines: frames end with a delimiter (`\n`, `\r\n`, or 0x00 for COBS). Empty frames are skipped. */
import type { FrameSink, Framer } from './framer.js';

export class DelimiterFramer implements Framer {
  readonly #delimiter: Buffer;
  readonly #max: number;
  readonly #sink: FrameSink;
  readonly #stripCr: boolean;
  #pending: Buffer | undefined;
  /** After an overlong frame, bytes up to the next delimiter belong to it and are dropped too. */
  #skipping = false;

  constructor(delimiter: Buffer, maxLength: number, sink: FrameSink, stripTrailingCr: boolean) {
    this.#delimiter = delimiter;
    this.#max = maxLength;
    this.#sink = sink;
    this.#stripCr = stripTrailingCr;
  }

  push(chunk: Buffer): void {
    const buf = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = undefined;
    const dl = this.#delimiter.length;
    let start = 0;
    for (let end = buf.indexOf(this.#delimiter, 0); end >= 0; end = buf.indexOf(this.#delimiter, start)) {
      if (this.#skipping) this.#skipping = false;
      else this.#emit(buf.subarray(start, end));
      start = end + dl;
    }
    if (start >= buf.length) return;
    const rest = buf.subarray(start);
    if (this.#skipping) return;
    if (rest.length > this.#max) {
      this.#sink.discard('FRAME_TOO_LONG', rest);
      this.#skipping = true;
      return;
    }
    // copy: the chunk's memory belongs to the port's read buffer
    this.#pending = Buffer.from(rest);
  }

  reset(): number {
    const dropped = this.#pending?.length ?? 0;
    this.#pending = undefined;
    this.#skipping = false;
    return dropped;
  }

  #emit(frame: Buffer): void {
    let f = frame;
    if (this.#stripCr && f.length > 0 && f[f.length - 1] === 0x0d) f = f.subarray(0, f.length - 1);
    if (f.length === 0) return;
    if (f.length > this.#max) this.#sink.discard('FRAME_TOO_LONG', f);
    else this.#sink.frame(Buffer.from(f));
  }
}
