/**
 * Closes a connection whose next MQTT packet declares a size above the limit,
 * as soon as its fixed header arrives: the body is never handed to the parser,
 * so one client cannot make a small board buffer megabytes. aedes reads its
 * socket with `read()` on 'readable'; the guard sits on that call.
 */
import type { Readable } from 'node:stream';

/** Tracks packet boundaries across chunks from the fixed header alone. */
export class PacketSizeTracker {
  readonly #max: number;
  #skip = 0; // body bytes of the current packet still to pass
  #inHeader = false; // saw the type byte, reading the length varint
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;

  constructor(maxPacketSize: number) {
    this.#max = maxPacketSize;
  }

  /** Feeds a chunk; returns the size of an oversized packet, or 0 if all is well. */
  feed(chunk: Buffer): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        continue;
      }
      if (!this.#inHeader) {
        this.#inHeader = true;
        this.#length = 0;
        this.#multiplier = 1;
        this.#lengthBytes = 0;
        i++;
        continue;
      }
      // Remaining Length: up to four 7-bit groups, low group first [MQTT-2.2.3]
      const byte = chunk[i++]!;
      this.#length += (byte & 0x7f) * this.#multiplier;
      this.#multiplier *= 128;
      this.#lengthBytes++;
      if ((byte & 0x80) !== 0 && this.#lengthBytes < 4) continue;
      this.#inHeader = false;
      const total = 1 + this.#lengthBytes + this.#length;
      if (total > this.#max) return total;
      this.#skip = this.#length;
    }
    return 0;
  }
}

/** Installs the guard on a stream that aedes will read; `onOversize` decides what to do. */
export function guardPacketSize(stream: Readable, maxPacketSize: number, onOversize: (size: number) => void): void {
  const tracker = new PacketSizeTracker(maxPacketSize);
  const read = stream.read.bind(stream);
  let tripped = false;
  stream.read = (size?: number) => {
    if (tripped) return null;
    const chunk = read(size) as Buffer | null;
    if (chunk === null) return null;
    const oversize = tracker.feed(chunk);
    if (oversize > 0) {
      tripped = true;
      onOversize(oversize);
      stream.destroy();
      return null;
    }
    return chunk;
  };
}
