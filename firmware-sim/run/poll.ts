/**
 * Request/response serial devices: the gateway writes the profile's poll
 * request, the device answers with one message. Bytes may arrive split, so
 * they gather until the request is complete; anything else is line noise.
 */
import type { Poll } from '../../devices/serial/schema.js';

export class PollAnswerer {
  readonly #request: Buffer;
  readonly #answer: () => void;
  #pending: Buffer = Buffer.alloc(0);

  constructor(poll: Poll, answer: () => void) {
    this.#request = poll.encoding === 'hex' ? Buffer.from(poll.request, 'hex') : Buffer.from(poll.request, 'utf8');
    this.#answer = answer;
  }

  push(chunk: Buffer): void {
    let buf = Buffer.concat([this.#pending, chunk]);
    for (let at = buf.indexOf(this.#request); at >= 0; at = buf.indexOf(this.#request)) {
      buf = buf.subarray(at + this.#request.length);
      this.#answer();
    }
    // keep only what could still be the start of a request
    this.#pending = Buffer.from(buf.subarray(Math.max(0, buf.length - this.#request.length + 1)));
  }
}
