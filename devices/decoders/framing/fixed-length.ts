/**
 * Fixed-length records. With a sync pattern the framer finds the start of the
 * next record after noise or a partial record; without one it trusts alignment,
 * which a reopen restores by resetting.
 */
import type { FrameSink, Framer } from './framer.js';
import { syncIndex } from './sync.js';

export class FixedLengthFramer implements Framer {
  readonly #length: number;
  readonly #sync: Buffer | undefined;
  readonly #sink: FrameSink;
  #pending: Buffer = Buffer.alloc(0);

  constructor(length: number, sync: Buffer | undefined, sink: FrameSink) {
    this.#length = length;
    this.#sync = sync;
    this.#sink = sink;
  }

  push(chunk: Buffer): void {
    let buf = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    let start = 0;
    for (;;) {
      if (this.#sync) {
        const at = syncIndex(buf, this.#sync, start);
        if (at > start) this.#sink.discard('GARBAGE', buf.subarray(start, at));
        start = at;
      }
      if (buf.length - start < this.#length) break;
      const frame = buf.subarray(start, start + this.#length);
      // a record whose sync bytes do not start it cannot be aligned; resync one byte on
      if (this.#sync && !frame.subarray(0, this.#sync.length).equals(this.#sync)) {
        start++;
        continue;
      }
      this.#sink.frame(Buffer.from(frame));
      start += this.#length;
    }
    buf = buf.subarray(start);
    this.#pending = Buffer.from(buf);
  }

  reset(): number {
    const dropped = this.#pending.length;
    this.#pending = Buffer.alloc(0);
    return dropped;
  }
}
