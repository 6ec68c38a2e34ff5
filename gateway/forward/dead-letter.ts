/**
 * The dead-letter file of one sink: `dataDir/dead-letter/<sink>.ndjson`, one
 * JSON line per rejected record with the upstream's reason, appended and
 * fsynced before the delivery loop acknowledges the batch, so a rejected
 * record is either on disk here or still in the buffer, never nowhere.
 *
 * The file is capped: past the cap, records are not written but counted
 * (`dropped`) and reported, by the stated policy, instead of filling the disk.
 */
import { mkdir, open, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BufferedRecord } from '../core/contracts.js';

export interface DeadLetterLine {
  readonly deadAt: string;
  readonly sink: string;
  readonly reason: string;
  /** Buffer offset, as a decimal string (JSON has no bigint). */
  readonly offset: string;
  readonly record: unknown;
}

export interface DeadLetterResult {
  readonly written: number;
  /** Records not written because the file reached its cap. */
  readonly dropped: number;
}

export class DeadLetterFile {
  readonly path: string;
  readonly #sink: string;
  readonly #maxBytes: number;
  #size: number | undefined;
  #written = 0;
  #dropped = 0;
  /** Both lanes of a sink may reject at once; writes go one at a time so the size check holds. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(dataDir: string, sink: string, maxBytes: number) {
    // encoded like the buffer's cursor files, so no sink name can reach outside the directory
    this.path = join(dataDir, 'dead-letter', `${encodeURIComponent(sink)}.ndjson`);
    this.#sink = sink;
    this.#maxBytes = maxBytes;
  }

  get written(): number {
    return this.#written;
  }
  get dropped(): number {
    return this.#dropped;
  }
  get bytes(): number {
    return this.#size ?? 0;
  }

  /** Appends the batch and fsyncs. Rejects on an I/O error; the caller retries and must not ack. */
  write(batch: readonly BufferedRecord[], reason: string, now: number): Promise<DeadLetterResult> {
    const next = this.#queue.then(() => this.#write(batch, reason, now));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #write(batch: readonly BufferedRecord[], reason: string, now: number): Promise<DeadLetterResult> {
    if (this.#size === undefined) {
      await mkdir(dirname(this.path), { recursive: true });
      this.#size = await stat(this.path).then((s) => s.size, () => 0);
    }
    const deadAt = new Date(now).toISOString();
    let text = '';
    let written = 0;
    for (const b of batch) {
      const line: DeadLetterLine = { deadAt, sink: this.#sink, reason, offset: b.offset.toString(), record: b.record };
      const s = JSON.stringify(line) + '\n';
      if (this.#size + Buffer.byteLength(text) + Buffer.byteLength(s) > this.#maxBytes) break;
      text += s;
      written++;
    }
    if (written > 0) {
      const fh = await open(this.path, 'a');
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      this.#size += Buffer.byteLength(text);
    }
    const dropped = batch.length - written;
    this.#written += written;
    this.#dropped += dropped;
    return { written, dropped };
  }
}
