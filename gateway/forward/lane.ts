/**
 * One lane of a sink's delivery loop: read a batch, deliver it, settle it,
 * read on. A lane has one batch in flight at a time, which is what keeps
 * order without any coordination with the upstream.
 *
 *   delivered → acknowledge it to the buffer
 *   retry     → back off and retry the SAME batch: nothing is skipped
 *   rejected  → dead-letter file (fsynced), then acknowledge: the rest flows on
 *
 * Roles: `all` sends every record in log order with cumulative acks. With the
 * alert lane on, `telemetry` sends readings in log order and `alerts` sends
 * alerts (the buffer's indexed priority lane) ahead of any telemetry backlog,
 * each acknowledging what it sent; the cursor passes both.
 */
import type { Logger } from 'pino';
import type { BufferedRecord, BufferReadOptions, Clock, DeliveryOutcome, PipelineRecord, RecordBuffer, Sink } from '../core/contracts.js';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import type { DeliverySettings } from './config.js';
import type { Pacer } from './pacer.js';
import { markReplays } from './replay.js';
import type { SinkHealth } from './sink-health.js';
import type { LoopState } from './sink-status.js';
import { Waiter } from './waiter.js';

/** Safety net only: an idle lane re-reads this often even if nobody calls notify(). */
const IDLE_RECHECK_MS = 5000;

export type LaneRole = 'all' | 'telemetry' | 'alerts';

/** Shared by the telemetry and alert lanes: every alert at or below this is settled. */
export interface AlertMark {
  settledUpTo: bigint | null;
}

export interface LaneOptions {
  readonly role: LaneRole;
  readonly sink: Sink;
  readonly buffer: RecordBuffer;
  readonly settings: DeliverySettings;
  readonly clock: Clock;
  readonly log: Logger;
  readonly policy: BackoffPolicy;
  readonly health: SinkHealth;
  /** The drain-rate cap; the alert lane has none. */
  readonly pacer: Pacer | undefined;
  readonly alertMark: AlertMark;
}

export class Lane {
  readonly role: LaneRole;
  readonly #o: LaneOptions;
  readonly #name: string;
  readonly #waiter: Waiter;
  /** Read but not yet sent (a batch cut short by maxBatchBytes). */
  #pending: BufferedRecord[] = [];
  /** Highest offset this lane has settled or passed over; the next read starts after it. */
  #settled: bigint | null = null;
  /** Alerts the telemetry lane passed over (ascending); it may not ack cumulatively past one still unsettled. */
  #skippedAlerts: bigint[] = [];
  #lingerNext = false;
  #readFailures = 0;
  #stopping = false;
  #abandoned = false;
  state: LoopState = 'starting';
  nextAttemptAt: number | null = null;

  constructor(options: LaneOptions) {
    this.role = options.role;
    this.#o = options;
    this.#name = options.sink.name;
    this.#waiter = new Waiter(options.clock);
  }

  get settled(): bigint | null {
    return this.#settled;
  }

  notify(): void {
    this.#waiter.notify();
  }

  stop(): void {
    this.#stopping = true;
    this.#waiter.stop();
  }

  /** After stop: the in-flight delivery, if it ever settles, must not touch the buffer. */
  abandon(): void {
    this.#abandoned = true;
    this.state = 'stopped';
  }

  async run(): Promise<void> {
    while (!this.#stopping) {
      const batch = await this.#nextBatch();
      if (!batch || this.#stopping) continue;
      if (!(await this.#pace(batch.length))) break;
      await this.#settle(batch);
    }
    this.state = 'stopped';
  }

  /** The next batch to deliver, or undefined after a wait (idle, read error, stop). */
  async #nextBatch(): Promise<BufferedRecord[] | undefined> {
    if (this.#pending.length === 0) {
      if (this.#lingerNext && this.#o.settings.lingerMs > 0 && this.role !== 'alerts') {
        this.state = 'lingering';
        await this.#waiter.wait(this.#o.settings.lingerMs, false);
        if (this.#stopping) return undefined;
      }
      this.#lingerNext = false;
      // Whatever a notify announced so far, this read will see.
      this.#waiter.takeNotify();
      const read = await this.#read();
      if (read === undefined) return undefined;
      if (read.length === 0) {
        this.state = 'idle';
        this.#lingerNext = (await this.#waiter.wait(IDLE_RECHECK_MS, true)) === 'notify';
        return undefined;
      }
      this.#pending = this.role === 'telemetry' ? this.#passOverAlerts(read) : read;
      // only alerts this time: the alert lane sends them; read on at once
      if (this.#pending.length === 0) return undefined;
    }
    return this.#cut();
  }

  async #read(): Promise<BufferedRecord[] | undefined> {
    const after = this.#settled;
    const options: BufferReadOptions = {
      ...(after !== null ? { from: after + 1n } : {}),
      ...(this.role === 'alerts' ? { kind: 'alert' as const } : {}),
    };
    let read: readonly BufferedRecord[];
    try {
      read = await this.#o.buffer.read(this.#name, this.#o.settings.batchSize, options);
    } catch (e) {
      this.#readFailures++;
      this.#o.log.error({ err: e, sink: this.#name, lane: this.role }, 'Could not read from the buffer; will try again.');
      this.state = 'backing-off';
      await this.#waiter.wait(backoffDelay(this.#o.policy, this.#readFailures), false);
      return undefined;
    }
    this.#readFailures = 0;
    // `from` already says this; the filter keeps a lane safe with a buffer that ignores it.
    return after === null ? [...read] : read.filter((b) => b.offset > after);
  }

  #passOverAlerts(read: BufferedRecord[]): BufferedRecord[] {
    const readings: BufferedRecord[] = [];
    for (const b of read) {
      if (b.record.kind === 'alert') this.#skippedAlerts.push(b.offset);
      else readings.push(b);
    }
    if (readings.length === 0) this.#settled = read[read.length - 1]!.offset;
    return readings;
  }

  /** The largest prefix of #pending within batchSize and maxBatchBytes (at least one record). */
  #cut(): BufferedRecord[] {
    const { batchSize, maxBatchBytes } = this.#o.settings;
    let n = 0;
    let bytes = 0;
    for (const b of this.#pending) {
      if (n >= batchSize) break;
      const size = JSON.stringify(b.record).length;
      if (n > 0 && bytes + size > maxBatchBytes) break;
      bytes += size;
      n++;
    }
    return this.#pending.splice(0, n);
  }

  /** Waits for drain-rate tokens; false if stopped meanwhile. */
  async #pace(n: number): Promise<boolean> {
    const pacer = this.#o.pacer;
    if (!pacer) return true;
    const delay = pacer.delayFor(n);
    if (delay > 0) {
      this.state = 'pacing';
      this.nextAttemptAt = this.#o.clock.now() + delay;
      await this.#waiter.wait(delay, false);
      this.nextAttemptAt = null;
      if (this.#stopping) return false;
    }
    pacer.take(n);
    return true;
  }

  /** Delivers one batch until it is delivered or dead-lettered, or the lane stops (then it stays unacked). */
  async #settle(batch: BufferedRecord[]): Promise<void> {
    const { health, clock } = this.#o;
    for (let failures = 0; !this.#stopping; ) {
      health.attempting();
      this.state = 'delivering';
      this.nextAttemptAt = null;
      const { records, marked } = markReplays(
        batch.map((b) => b.record),
        health.replayBefore,
      );
      const outcome = await this.#attempt(records);
      if (this.#abandoned) return;
      const now = clock.now();
      if (outcome.kind === 'retry') {
        failures++;
        health.retried(outcome.reason, now);
        const delay = backoffDelay(this.#o.policy, failures, outcome.afterMs);
        this.#o.log.debug({ sink: this.#name, lane: this.role, reason: outcome.reason, failures, retryInMs: delay }, 'Delivery failed; retrying the same batch.');
        this.state = 'backing-off';
        this.nextAttemptAt = now + delay;
        await this.#waiter.wait(delay, false);
        continue;
      }
      health.answered(now);
      if (outcome.kind === 'rejected') {
        health.rejected(batch.length);
        if (!(await this.#toDeadLetter(batch, outcome.reason))) return;
      } else {
        health.delivered(batch.length, marked, now);
      }
      await this.#ack(batch);
      return;
    }
  }

  /** A sink that throws is treated as asking for a retry; it never takes the loop down. */
  async #attempt(records: readonly PipelineRecord[]): Promise<DeliveryOutcome> {
    try {
      return await this.#o.sink.deliver(records);
    } catch (e) {
      return { kind: 'retry', reason: `sink threw: ${e instanceof Error ? e.message : String(e)}` };
    }
  }

  /** Writes a rejected batch to the dead-letter file, retrying I/O errors; false if stopped first. */
  async #toDeadLetter(batch: BufferedRecord[], reason: string): Promise<boolean> {
    const { health, clock, log } = this.#o;
    for (let failures = 1; !this.#stopping; failures++) {
      try {
        const r = await health.deadLetter.write(batch, reason, clock.now());
        health.deadLettered(r.written, r.dropped);
        const fields = { sink: this.#name, reason, records: batch.length, file: health.deadLetter.path };
        if (r.dropped) log.error({ ...fields, dropped: r.dropped }, 'The sink rejected a batch and the dead-letter file is full; records dropped.');
        else log.error(fields, 'The sink rejected a batch; it is in the dead-letter file and the rest flows on.');
        return true;
      } catch (e) {
        log.error({ err: e, sink: this.#name }, 'Could not write the dead-letter file; the batch stays in the buffer.');
        this.state = 'backing-off';
        await this.#waiter.wait(backoffDelay(this.#o.policy, failures), false);
      }
    }
    return false;
  }

  async #ack(batch: BufferedRecord[]): Promise<void> {
    const last = batch[batch.length - 1]!.offset;
    this.#settled = last;
    const { buffer, alertMark } = this.#o;
    try {
      if (this.role === 'alerts') {
        await buffer.ackEach(this.#name, batch.map((b) => b.offset));
        alertMark.settledUpTo = last;
      } else if (this.#alertUnsettledBelow(last)) {
        // a cumulative ack would cover an alert the alert lane has not sent yet
        await buffer.ackEach(this.#name, batch.map((b) => b.offset));
      } else {
        await buffer.ack(this.#name, last);
      }
    } catch (e) {
      // A later ack covers these (the cursor passes them); a crash before it means duplicates, not loss.
      this.#o.log.error({ err: e, sink: this.#name, offset: last.toString() }, 'Could not acknowledge delivered records to the buffer.');
    }
  }

  #alertUnsettledBelow(offset: bigint): boolean {
    const done = this.#o.alertMark.settledUpTo;
    const skipped = this.#skippedAlerts;
    let i = 0;
    while (i < skipped.length && done !== null && skipped[i]! <= done) i++;
    if (i > 0) skipped.splice(0, i);
    return skipped.length > 0 && skipped[0]! <= offset;
  }
}
