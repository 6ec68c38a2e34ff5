/**
 * SLIP (RFC 1055): frames end with END (0xC0); END and ESC (0xDB) inside a frame
 * travel as ESC ESC_END and ESC ESC_ESC. Many senders also start frames with END
 * to flush line noise, so empty frames are skipped.
 */
import type { FrameSink, Framer } from './framer.js';

export const SLIP_END = 0xc0;
export const SLIP_ESC = 0xdb;
const ESC_END = 0xdc;
const ESC_ESC = 0xdd;

export function slipEncode(payload: Uint8Array): Buffer {
  const out = Buffer.alloc(payload.length * 2 + 2);
  let n = 0;
  out[n++] = SLIP_END;
  for (const byte of payload) {
    if (byte === SLIP_END) (out[n++] = SLIP_ESC), (out[n++] = ESC_END);
    else if (byte === SLIP_ESC) (out[n++] = SLIP_ESC), (out[n++] = ESC_ESC);
    else out[n++] = byte;
  }
  out[n++] = SLIP_END;
  return out.subarray(0, n);
}

export class SlipFramer implements Framer {
  readonly #sink: FrameSink;
  readonly #frame: Buffer;
  #n = 0;
  #escaped = false;
  /** After a protocol error or overflow, everything up to the next END is dropped. */
  #broken: string | undefined;

  constructor(maxLength: number, sink: FrameSink) {
    this.#sink = sink;
    this.#frame = Buffer.alloc(maxLength);
  }

  push(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === SLIP_END) {
        this.#end();
        continue;
      }
      if (this.#broken) continue;
      if (this.#escaped) {
        this.#escaped = false;
        if (byte === ESC_END) this.#put(SLIP_END);
        else if (byte === ESC_ESC) this.#put(SLIP_ESC);
        else this.#broken = 'BAD_SLIP';
      } else if (byte === SLIP_ESC) this.#escaped = true;
      else this.#put(byte);
    }
  }

  reset(): number {
    const dropped = this.#n;
    this.#n = 0;
    this.#escaped = false;
    this.#broken = undefined;
    return dropped;
  }

  #put(byte: number): void {
    if (this.#n === this.#frame.length) this.#broken = 'FRAME_TOO_LONG';
    else this.#frame[this.#n++] = byte;
  }

  #end(): void {
    if (this.#broken) this.#sink.discard(this.#broken, Buffer.from(this.#frame.subarray(0, this.#n)));
    else if (this.#escaped) this.#sink.discard('BAD_SLIP', Buffer.from(this.#frame.subarray(0, this.#n)));
    else if (this.#n > 0) this.#sink.frame(Buffer.from(this.#frame.subarray(0, this.#n)));
    this.reset();
  }
}
