/**
 * `[sync][length][payload]` frames; the payload alone is handed on. A length
 * out of range means lost alignment: with a sync pattern the framer searches
 * for the next one, without one it drops what it holds and starts over.
 */
import type { FrameSink, Framer } from './framer.js';
import { syncIndex } from './sync.js';

export interface LengthPrefixedSettings {
  readonly size: 1 | 2 | 4;
  readonly endian: 'be' | 'le';
  readonly adjust: number;
  readonly sync: Buffer | undefined;
  readonly maxLength: number;
}

export class LengthPrefixedFramer implements Framer {
  readonly #s: LengthPrefixedSettings;
  readonly #sink: FrameSink;
  readonly #syncLength: number;
  #pending: Buffer = Buffer.alloc(0);

  constructor(settings: LengthPrefixedSettings, sink: FrameSink) {
    this.#s = settings;
    this.#sink = sink;
    this.#syncLength = settings.sync?.length ?? 0;
  }

  push(chunk: Buffer): void {
    const buf = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    const { sync, size, maxLength } = this.#s;
    let start = 0;
    for (;;) {
      if (sync) {
        const at = syncIndex(buf, sync, start);
        if (at > start) this.#sink.discard('GARBAGE', buf.subarray(start, at));
        start = at;
      }
      const header = this.#syncLength + size;
      if (buf.length - start < header) break;
      const length = this.#readLength(buf, start + this.#syncLength) + this.#s.adjust;
      if (length < 1 || length > maxLength) {
        if (sync) {
          this.#sink.discard('BAD_LENGTH', buf.subarray(start, start + header));
          start += 1;
          continue;
        }
        this.#sink.discard('BAD_LENGTH', buf.subarray(start));
        start = buf.length;
        break;
      }
      if (buf.length - start < header + length) break;
      this.#sink.frame(Buffer.from(buf.subarray(start + header, start + header + length)));
      start += header + length;
    }
    this.#pending = Buffer.from(buf.subarray(start));
  }

  reset(): number {
    const dropped = this.#pending.length;
    this.#pending = Buffer.alloc(0);
    return dropped;
  }

  #readLength(buf: Buffer, at: number): number {
    const { size, endian } = this.#s;
    if (size === 1) return buf.readUInt8(at);
    if (size === 2) return endian === 'be' ? buf.readUInt16BE(at) : buf.readUInt16LE(at);
    return endian === 'be' ? buf.readUInt32BE(at) : buf.readUInt32LE(at);
  }
}
