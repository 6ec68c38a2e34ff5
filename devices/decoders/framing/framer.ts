/**
 * Framers cut a serial byte stream into frames. Chunks arrive split anywhere
 * (a line may come in three reads, or ten lines in one), so a framer keeps the
 * partial tail. Bytes it cannot use are reported, never thrown about.
 */
import type { Framing } from '../../serial/schema.js';
import { DelimiterFramer } from './delimiter.js';
import { FixedLengthFramer } from './fixed-length.js';
import { LengthPrefixedFramer } from './length-prefixed.js';
import { SlipFramer } from './slip.js';
import { CobsFramer } from './cobs.js';

export const DEFAULT_MAX_FRAME = 4096;

export interface FrameSink {
  frame(payload: Buffer): void;
  /** Bytes dropped: `FRAME_TOO_LONG`, `GARBAGE` (before a sync pattern), `BAD_LENGTH`, `BAD_SLIP`, `BAD_COBS`. */
  discard(code: string, bytes: Buffer): void;
}

export interface Framer {
  push(chunk: Buffer): void;
  /** Forgets a partial frame (the port closed mid-frame); returns how many bytes were dropped. */
  reset(): number;
}

export function createFramer(framing: Framing, sink: FrameSink): Framer {
  switch (framing.kind) {
    case 'lf':
      return new DelimiterFramer(Buffer.from('\n'), framing.maxLength ?? DEFAULT_MAX_FRAME, sink, true);
    case 'crlf':
      return new DelimiterFramer(Buffer.from('\r\n'), framing.maxLength ?? DEFAULT_MAX_FRAME, sink, false);
    case 'fixed':
      return new FixedLengthFramer(framing.length, framing.sync === undefined ? undefined : Buffer.from(framing.sync, 'hex'), sink);
    case 'length-prefixed':
      return new LengthPrefixedFramer(
        {
          size: framing.size ?? 1,
          endian: framing.endian ?? 'be',
          adjust: framing.adjust ?? 0,
          sync: framing.sync === undefined ? undefined : Buffer.from(framing.sync, 'hex'),
          maxLength: framing.maxLength ?? DEFAULT_MAX_FRAME,
        },
        sink,
      );
    case 'slip':
      return new SlipFramer(framing.maxLength ?? DEFAULT_MAX_FRAME, sink);
    case 'cobs':
      return new CobsFramer(framing.maxLength ?? DEFAULT_MAX_FRAME, sink);
  }
}
