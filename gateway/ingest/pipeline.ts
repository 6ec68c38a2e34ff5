/**
 * Frame -> profile -> readings: routes a frame by its address, decodes it,
 * stamps identity and receive time, counts everything, and hands the readings
 * to the consumers (republish now; rules and the durable buffer later).
 * Bad input is counted and reported here; it never throws.
 */
import type { Logger } from 'pino';
import type { Frame, SourceProblem } from '../core/contracts.js';
import type { ReadingRecord } from '../core/records.js';
import type { RecordIds } from '../core/record-ids.js';
import { RateLimiter } from '../core/rate-limited-log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { CounterCell } from '../metrics/hot-counter.js';
import type { ProfileRouter, RoutedReading } from '../../devices/profiles/router.js';

/** Consumers get every batch of readings decoded from one frame, in arrival order. */
export type ReadingConsumer = (readings: readonly ReadingRecord[], frame: Frame) => void | Promise<void>;

export interface BadFrame {
  readonly frame: Frame;
  readonly code: string;
  readonly message: string;
  readonly device?: string;
}

export interface PipelineOptions {
  readonly router: ProfileRouter;
  readonly ids: RecordIds;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly consumers: readonly ReadingConsumer[];
  readonly onBadFrame?: (bad: BadFrame) => void;
}

const LOG_LINES_PER_MINUTE = 5;
/** Shared by every reading without tags (most of them): one object, not one per reading. */
const NO_TAGS: Readonly<Record<string, string>> = Object.freeze({});
const SAMPLE_BYTES = 32;

export class IngestPipeline {
  readonly #o: PipelineOptions;
  readonly #limiter = new RateLimiter(LOG_LINES_PER_MINUTE, 60_000);
  readonly #bySource = new Map<string, { messagesIn: CounterCell; readingsOut: CounterCell }>();

  constructor(options: PipelineOptions) {
    this.#o = options;
  }

  /** Accepts one frame; resolves when every consumer holds its readings. */
  readonly ingest = (frame: Frame): void | Promise<void> => {
    const { metrics } = this.#o;
    const counters = this.#countersFor(frame.source);
    counters.messagesIn.n++;
    const bound = boundProfile(frame);
    const routed = bound ? this.#o.router.decodeAs(bound.profile, bound.device, frame.payload) : this.#o.router.route(frame.address, frame.payload);
    if (routed.kind === 'unrouted') {
      metrics.unrouted.inc({ source: frame.source });
      return this.#reject({ frame, code: 'UNROUTED', message: bound ? `no device profile is named ${bound.profile}` : 'no device profile matches this topic' });
    }
    if (routed.kind === 'decode-error') {
      metrics.decodeErrors.inc({ device: metrics.devices.label(routed.device), code: routed.code });
      return this.#reject({ frame, code: routed.code, message: `${routed.profile}: ${routed.message}`, device: routed.device });
    }
    const deviceLabel = metrics.devices.touch(routed.device, frame.receivedAt);
    const records: ReadingRecord[] = [];
    let outOfRange = 0;
    for (const r of routed.readings) {
      records.push(this.#record(r, frame));
      if (r.outOfRange) outOfRange++;
    }
    counters.readingsOut.n += records.length;
    if (outOfRange > 0) metrics.outOfRange.inc({ device: deviceLabel }, outOfRange);
    return this.#deliver(records, frame);
  };

  #countersFor(source: string) {
    let c = this.#bySource.get(source);
    if (!c) {
      c = { messagesIn: this.#o.metrics.messagesIn.cell(source), readingsOut: this.#o.metrics.readingsOut.cell(source) };
      this.#bySource.set(source, c);
    }
    return c;
  }

  /** Sources report what they survived (reconnects, bad bytes) here. */
  readonly problem = (p: SourceProblem): void => {
    this.#o.metrics.sourceProblems.inc({ source: p.source, code: p.code });
    const suppressed = this.#limiter.admit(`${p.source}|${p.code}`);
    if (suppressed < 0) return;
    this.#o.log.warn({ source: p.source, code: p.code, device: p.device, sample: sample(p.sample), suppressed }, p.message);
  };

  #record(r: RoutedReading, frame: Frame): ReadingRecord {
    const record: ReadingRecord = {
      v: 1,
      kind: 'reading',
      id: this.#o.ids.next(),
      device: r.device,
      metric: r.metric,
      value: r.value,
      ts: r.ts ?? frame.receivedAt,
      receivedAt: frame.receivedAt,
      source: frame.source,
      tags: r.tags ?? NO_TAGS,
    };
    if (r.unit !== undefined) record.unit = r.unit;
    if (r.outOfRange) record.flags = ['out-of-range'];
    return record;
  }

  #deliver(records: ReadingRecord[], frame: Frame): void | Promise<void> {
    let wait: Promise<void> | undefined;
    let waits: Promise<void>[] | undefined;
    for (const consume of this.#o.consumers) {
      const pending = consume(records, frame);
      if (!pending) continue;
      // usually only the buffer makes the PUBACK wait: hand its promise on, not a Promise.all of one
      if (wait === undefined) wait = pending;
      else (waits ??= [wait]).push(pending);
    }
    if (waits) return Promise.all(waits).then(() => undefined);
    return wait;
  }

  #reject(bad: BadFrame): void {
    const key = `${bad.device ?? bad.frame.address}|${bad.code}`;
    const suppressed = this.#limiter.admit(key);
    if (suppressed >= 0) {
      this.#o.log.warn(
        { source: bad.frame.source, address: bad.frame.address, device: bad.device, code: bad.code, sample: sample(bad.frame.payload), suppressed },
        `Could not turn a frame into readings: ${bad.message}`,
      );
    }
    this.#o.onBadFrame?.(bad);
  }
}

/**
 * Serial ports and GPIO pins are bound to one profile and device in config, so
 * their frames name both in `meta` (set by the source, never by a client).
 */
function boundProfile(frame: Frame): { profile: string; device: string } | undefined {
  const profile = frame.meta?.profile;
  const device = frame.meta?.device;
  return typeof profile === 'string' && typeof device === 'string' ? { profile, device } : undefined;
}

/** A short hex prefix of a payload for logs: enough to recognise, too short to leak much. */
function sample(payload: Buffer | undefined): string | undefined {
  if (!payload) return undefined;
  const hex = payload.subarray(0, SAMPLE_BYTES).toString('hex');
  return payload.length > SAMPLE_BYTES ? `${hex}… (${payload.length} bytes)` : hex;
}
