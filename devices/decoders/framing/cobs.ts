/**
 * COBS (Cheshire and Baker, 1999): a frame is encoded without zero bytes and
 * ends with 0x00, so a reader always knows where the next frame starts.
 */
import type { FrameSink, Framer } from './framer.js';
import { DelimiterFramer } from './delimiter.js';

export function cobsEncode(payload: Uint8Array): Buffer {
  // one overhead byte per 254 data bytes, plus the code byte and the delimiter
  const out = Buffer.alloc(payload.length + Math.ceil(payload.length / 254) + 2);
  let codeAt = 0;
  let n = 1;
  let code = 1;
  for (const byte of payload) {
    if (byte === 0) {
      out[codeAt] = code;
      codeAt = n++;
      code = 1;
      continue;
    }
    out[n++] = byte;
    if (++code === 0xff) {
      out[codeAt] = code;
      codeAt = n++;
      code = 1;
    }
  }
  out[codeAt] = code;
  out[n++] = 0;
  return out.subarray(0, n);
}

/** Decodes one frame without its trailing 0x00; undefined when it is not valid COBS. */
export function cobsDecode(frame: Uint8Array): Buffer | undefined {
  const out = Buffer.alloc(frame.length);
  let n = 0;
  let i = 0;
  while (i < frame.length) {
    const code = frame[i]!;
    // a zero inside, or a group that runs past the end, is not COBS
    if (code === 0 || i + code > frame.length) return undefined;
    for (let k = 1; k < code; k++) out[n++] = frame[i + k]!;
    i += code;
    // a group shorter than 254 bytes stood for a zero, except the last one
    if (code < 0xff && i < frame.length) out[n++] = 0;
  }
  return out.subarray(0, n);
}

export class CobsFramer implements Framer {
  readonly #lines: DelimiterFramer;

  constructor(maxLength: number, sink: FrameSink) {
    // an encoded frame is at most one byte per 254 longer than its payload
    const encodedMax = maxLength + Math.ceil(maxLength / 254) + 1;
    this.#lines = new DelimiterFramer(Buffer.from([0]), encodedMax, {
      frame: (encoded) => {
        const decoded = cobsDecode(encoded);
        if (decoded) sink.frame(decoded);
        else sink.discard('BAD_COBS', encoded);
      },
      discard: (code, bytes) => sink.discard(code, bytes),
    }, false);
  }

  push(chunk: Buffer): void {
    this.#lines.push(chunk);
  }

  reset(): number {
    return this.#lines.reset();
  }
}
