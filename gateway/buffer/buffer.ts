/**
 * The durable record buffer: one segment log for all records and a cursor per
 * sink. Appends are group-committed: every append that arrives while a write
 * and fsync is in flight joins the next one, so a device's PUBACK waits for
 * durability without each message paying its own fsync.
 */
import type { Logger } from 'pino';
import type { BufferReadOptions, BufferStats, BufferedRecord, Clock, PipelineRecord, RecordBuffer, TimerHandle } from '../core/contracts.js';
import { WeirError } from '../core/errors.js';
import type { Metrics } from '../metrics/metrics.js';
import { DropCounter, expire, makeRoom, reclaim, type BudgetContext } from './budget.js';
import type { BufferLimits } from './config.js';
import { CursorSaver, SinkCursor } from './cursors.js';
import { bufferStats } from './stats.js';
import { HEADER_BYTES, KIND_ALERT, KIND_READING, MAX_PAYLOAD_BYTES, type FrameInfo } from './frame.js';
import type { Encoded, RecoveryReport, SegmentLog } from './log.js';
import { Rate } from './rate.js';
import type { Segment } from './segment.js';
import { ceilIndex } from './segment.js';
import type { DirLock } from './lock.js';

/** Under `reject-new`, readings are refused once this share of maxBytes is used; the rest is kept for alerts. */
const READING_SHARE = 0.95;
/** One group commit writes at most this much; a larger backlog of appends takes several. */
const MAX_WRITE_BYTES = 8 * 1024 * 1024;
const MAX_READ_BYTES = 4 * 1024 * 1024;

interface Pending {
  readonly items: Encoded[];
  readonly bytes: number;
  readonly readings: number;
  readonly alerts: number;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

export interface DiskBufferParts {
  readonly log: SegmentLog;
  readonly recovery: RecoveryReport;
  readonly cursors: Map<string, SinkCursor>;
  readonly cursorDir: string;
  readonly limits: BufferLimits;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
  /** Absent for a read-only view (the CLI on a running gateway). */
  readonly lock: DirLock | undefined;
}

export class DiskBuffer implements RecordBuffer {
  readonly #log: SegmentLog;
  readonly #recovery: RecoveryReport;
  readonly #cursors: Map<string, SinkCursor>;
  readonly #limits: BufferLimits;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #metrics: Metrics | undefined;
  readonly #lock: DirLock | undefined;
  readonly #drops: DropCounter;
  readonly #budget: BudgetContext;
  readonly #drain = new Map<string, Rate>();
  readonly #appended = new Rate();
  readonly #durableListeners: (() => void)[] = [];
  #pending: Pending[] = [];
  #flushQueued = false;
  /** Log operations (writes, fsyncs, drops, reclamation) run one at a time in this chain. */
  #lane: Promise<unknown> = Promise.resolve();
  #reclaimQueued = false;
  #timers = new Set<TimerHandle>();
  readonly #saver: CursorSaver | undefined;
  readonly #unwatch: (() => void) | undefined;
  #published = { bytes: 0, fsyncs: 0 };
  #closed = false;

  constructor(parts: DiskBufferParts) {
    this.#log = parts.log;
    this.#recovery = parts.recovery;
    this.#cursors = parts.cursors;
    this.#limits = parts.limits;
    this.#clock = parts.clock;
    this.#logger = parts.logger;
    this.#metrics = parts.metrics;
    this.#lock = parts.lock;
    this.#drops = new DropCounter(parts.metrics);
    this.#budget = { log: this.#log, drops: this.#drops, logger: this.#logger, segmentBytes: this.#limits.segmentBytes, minNext: () => this.#minNext() };
    for (const sink of this.#cursors.keys()) this.#drain.set(sink, new Rate());
    if (this.#lock) this.#saver = new CursorSaver(parts.cursorDir, this.#cursors, this.#clock, this.#limits.cursorSyncMs, this.#logger);
    if (this.#lock) this.#startTimers();
    if (this.#lock) this.#unwatch = parts.metrics?.watchBuffer(() => this.stats());
  }

  get readOnly(): boolean {
    return this.#lock === undefined;
  }

  onDurable(listener: () => void): void {
    this.#durableListeners.push(listener);
  }

  sinks(): string[] {
    return [...this.#cursors.keys()];
  }

  append(records: readonly PipelineRecord[]): Promise<void> {
    if (this.#closed || !this.#lock) return Promise.reject(new WeirError('BUFFER_CLOSED', this.#closed ? 'the buffer is closed' : 'the buffer is open read-only'));
    if (records.length === 0) return Promise.resolve();
    const items: Encoded[] = [];
    let bytes = 0;
    let alerts = 0;
    for (const r of records) {
      let payload: string;
      try {
        payload = JSON.stringify(r);
      } catch (e) {
        return Promise.reject(e); // a record JSON cannot hold (a BigInt, a cycle): the caller's bug, as a rejection
      }
      const length = Buffer.byteLength(payload);
      if (length > MAX_PAYLOAD_BYTES) return Promise.reject(new WeirError('BUFFER_FULL', `a record of ${length} bytes is larger than the ${MAX_PAYLOAD_BYTES} a buffer record may be`));
      const kind = r.kind === 'alert' ? KIND_ALERT : KIND_READING;
      if (kind === KIND_ALERT) alerts++;
      items.push({ kind, payload, length });
      bytes += HEADER_BYTES + length;
    }
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ items, bytes, readings: items.length - alerts, alerts, resolve, reject });
      this.#scheduleFlush();
    });
  }

  #scheduleFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    // One turn of the event loop lets appends arriving together share a write and an fsync.
    setImmediate(() => void this.#exclusive(() => this.#flush()).catch((e: unknown) => this.#logger.error({ err: e }, 'Buffer flush failed unexpectedly.')));
  }

  async #flush(): Promise<void> {
    let calls: Pending[] = [];
    let taken = 0;
    while (this.#pending.length > 0 && (calls.length === 0 || taken + this.#pending[0]!.bytes <= MAX_WRITE_BYTES)) {
      const c = this.#pending.shift()!;
      calls.push(c);
      taken += c.bytes;
    }
    try {
      calls = await this.#admit(calls);
      if (calls.length > 0) {
        const items = calls.length === 1 ? calls[0]!.items : calls.flatMap((c) => c.items);
        await this.#log.append(items, this.#clock.now(), this.#limits.fsync === 'always', this.#limits.segmentBytes);
        this.#appended.add(items.length, this.#clock.now());
        for (const c of calls) c.resolve();
        for (const listener of this.#durableListeners) listener();
      }
    } catch (e) {
      this.#logger.error({ err: e, records: calls.reduce((n, c) => n + c.items.length, 0) }, 'The buffer could not write appended records; they were not acknowledged.');
      const err = new WeirError('BUFFER_WRITE_FAILED', `buffer write failed: ${(e as Error).message}`, { cause: e });
      for (const c of calls) c.reject(err);
    } finally {
      this.#publishCounters();
      this.#flushQueued = false;
      if (this.#pending.length > 0) this.#scheduleFlush();
    }
  }

  /** Applies the budget to a group of appends: returns those that fit, rejects the rest. */
  async #admit(calls: Pending[]): Promise<Pending[]> {
    const { maxBytes, whenFull } = this.#limits;
    const ok: Pending[] = [];
    let adding = 0;
    for (const c of calls) {
      const limit = whenFull === 'reject-new' && c.readings > 0 ? maxBytes * READING_SHARE : maxBytes;
      const over = () => this.#log.bytes + adding + c.bytes - limit;
      if (over() > 0) await reclaim(this.#budget);
      if (over() > 0 && whenFull === 'drop-oldest' && adding + c.bytes <= maxBytes) await makeRoom(this.#budget, over());
      if (over() > 0) {
        this.#drops.add('rejected', c.readings, c.alerts);
        c.reject(new WeirError('BUFFER_FULL', `the buffer is full (${this.#log.bytes} of ${maxBytes} bytes, whenFull: ${whenFull}); append of ${c.items.length} record(s) refused`));
        continue;
      }
      ok.push(c);
      adding += c.bytes;
    }
    return ok;
  }

  async read(sink: string, max: number, options: BufferReadOptions = {}): Promise<readonly BufferedRecord[]> {
    const cursor = this.#cursor(sink);
    // A compaction swaps a segment's file under a read; reading again sees the new one.
    for (let attempt = 0; ; attempt++) {
      const generation = this.#log.compactions;
      try {
        const out = await this.#readOnce(cursor, max, options);
        if (generation === this.#log.compactions || attempt >= 3) return out;
      } catch (e) {
        if (generation === this.#log.compactions || attempt >= 3) throw e;
      }
    }
  }

  /** Records from `from` on regardless of cursors: for `weir buffer inspect`. */
  peek(from: number, max: number): Promise<BufferedRecord[]> {
    return this.#readOnce(new SinkCursor('', from), max, {});
  }

  async #readOnce(c: SinkCursor, max: number, options: BufferReadOptions): Promise<BufferedRecord[]> {
    const out: BufferedRecord[] = [];
    if (max <= 0) return out;
    const from = Math.max(c.next, options.from === undefined ? 0 : Number(options.from));
    const kind = options.kind === 'alert' ? KIND_ALERT : options.kind === 'reading' ? KIND_READING : 0;
    let bytes = 0;
    const take = (f: FrameInfo, payload: Buffer): boolean | number => {
      if (kind !== 0 && f.kind !== kind) return true;
      const skip = c.ahead.containing(f.offset);
      if (skip) return skip[1] + 1;
      const record = this.#decode(payload);
      if (record) out.push({ offset: BigInt(f.offset), appendedAt: f.appendedAt, record });
      bytes += f.size;
      return out.length < max && bytes < MAX_READ_BYTES;
    };
    for (const seg of [...this.#log.segments]) {
      if (out.length >= max || bytes >= MAX_READ_BYTES) break;
      if (seg.count === 0 || seg.last < from) continue;
      try {
        if (kind === KIND_ALERT) await this.#readAlerts(seg, from, take);
        else await this.#log.scanFrom(seg, from, take);
      } catch (e) {
        // Reclaimed or dropped while we read: its records are delivered or gone either way.
        if (this.#log.segments.includes(seg)) throw e;
      }
    }
    return out;
  }

  /** The alert lane: alerts are indexed by position, so no readings are read to find them. */
  async #readAlerts(seg: Segment, from: number, take: (f: FrameInfo, payload: Buffer) => boolean | number): Promise<void> {
    for (let i = ceilIndex(seg.alerts, from); i < seg.alerts.length; i++) {
      const found = await this.#log.readAt(seg, seg.alertPos[i]!);
      if (found && take(found.frame, found.payload) === false) return;
    }
  }

  #decode(payload: Buffer): PipelineRecord | undefined {
    try {
      return JSON.parse(payload.toString('utf8')) as PipelineRecord;
    } catch {
      this.#log.readDamage++; // a checksum-valid frame that is not JSON: a writer bug, not bit rot
      return undefined;
    }
  }

  async ack(sink: string, upTo: bigint): Promise<void> {
    const c = this.#writableCursor(sink);
    const to = Math.min(Number(upTo), this.#log.nextOffset - 1);
    if (to < c.next) return;
    const delivered = this.#log.countPresent(c.next, to + 1);
    c.next = to + 1;
    this.#advanced(c, delivered);
  }

  async ackEach(sink: string, offsets: readonly bigint[]): Promise<void> {
    const c = this.#writableCursor(sink);
    let n = 0;
    for (const o of offsets) {
      const offset = Number(o);
      if (offset < c.next || offset >= this.#log.nextOffset || c.ahead.containing(offset)) continue;
      c.ahead.add(offset);
      n++;
    }
    if (n > 0) this.#advanced(c, n);
  }

  nextOffset(): bigint {
    return BigInt(this.#log.nextOffset);
  }

  #advanced(c: SinkCursor, delivered: number): void {
    this.#normalize(c);
    c.dirty = true;
    this.#drain.get(c.sink)?.add(delivered, this.#clock.now());
    this.#saver?.changed();
    this.#scheduleReclaim();
  }

  /** Moves the cursor over records already delivered out of order, and over offsets that hold nothing. */
  #normalize(c: SinkCursor): void {
    c.ahead.dropBelow(c.next);
    for (;;) {
      const present = this.#log.firstPresent(c.next);
      if (present === undefined) return;
      c.next = present; // offsets below a present record are written or gone: never filled later
      const range = c.ahead.containing(present);
      if (!range) return;
      c.next = range[1] + 1;
      c.ahead.dropBelow(c.next);
    }
  }

  #minNext(): number {
    let min = this.#log.nextOffset;
    for (const c of this.#cursors.values()) min = Math.min(min, c.next);
    return min;
  }

  #cursor(sink: string): SinkCursor {
    const c = this.#cursors.get(sink);
    if (!c) throw new Error(`the buffer has no sink ${JSON.stringify(sink)} (sinks: ${this.sinks().join(', ') || 'none'})`);
    return c;
  }

  #writableCursor(sink: string): SinkCursor {
    if (this.#closed || !this.#lock) throw new WeirError('BUFFER_CLOSED', this.#closed ? 'the buffer is closed' : 'the buffer is open read-only');
    return this.#cursor(sink);
  }

  stats(): BufferStats {
    return bufferStats({
      log: this.#log,
      cursors: this.#cursors.values(),
      drain: this.#drain,
      appended: this.#appended,
      dropped: this.#drops.counts,
      recovery: this.#recovery,
      now: this.#clock.now(),
    });
  }

  /** Runs log operations one at a time; a failure is the caller's, never the chain's. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lane.then(fn);
    this.#lane = run.catch(() => undefined);
    return run;
  }

  #scheduleReclaim(): void {
    const oldest = this.#log.segments[0];
    if (this.#reclaimQueued || !oldest || oldest === this.#log.active || oldest.last >= this.#minNext()) return;
    this.#reclaimQueued = true;
    void this.#exclusive(async () => {
      this.#reclaimQueued = false;
      await reclaim(this.#budget);
    }).catch((e: unknown) => this.#logger.warn({ err: e }, 'Could not delete a delivered buffer segment; will try again.'));
  }

  #startTimers(): void {
    const every = (ms: number, task: () => Promise<void>, what: string) => {
      const tick = () => {
        this.#timers.delete(handle);
        if (this.#closed) return;
        void this.#exclusive(task)
          .catch((e: unknown) => this.#logger.warn({ err: e }, `Buffer ${what} failed; will try again.`))
          .finally(() => {
            if (!this.#closed) (handle = this.#clock.setTimeout(tick, ms)), this.#timers.add(handle);
          });
      };
      let handle = this.#clock.setTimeout(tick, ms);
      this.#timers.add(handle);
    };
    if (this.#limits.fsync === 'interval') {
      every(this.#limits.fsyncIntervalMs, async () => {
        await this.#log.sync();
        this.#publishCounters();
      }, 'fsync');
    }
    const { maxAgeMs } = this.#limits;
    every(Math.min(60_000, Math.ceil(maxAgeMs / 16)), () => this.#expireNow(), 'expiry');
  }

  /** Drops what is older than maxAge; rolls the active segment at maxAge/16 so whole segments can age out. */
  #expireNow(): Promise<void> {
    const now = this.#clock.now();
    return expire(this.#budget, now - this.#limits.maxAgeMs, now - this.#limits.maxAgeMs / 16);
  }

  #publishCounters(): void {
    const m = this.#metrics;
    if (!m) return;
    m.bufferBytesWritten.inc(this.#log.bytesWritten - this.#published.bytes);
    m.bufferFsyncs.inc(this.#log.fsyncs - this.#published.fsyncs);
    this.#published = { bytes: this.#log.bytesWritten, fsyncs: this.#log.fsyncs };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) this.#clock.clearTimeout(t);
    this.#saver?.stop();
    // Appends accepted before close are still written: their callers may be holding a PUBACK.
    while (this.#flushQueued || this.#pending.length > 0) await this.#exclusive(() => this.#flush());
    await this.#lane;
    await this.#saver?.saveNow();
    await this.#log.close();
    this.#publishCounters();
    this.#unwatch?.();
    this.#lock?.release();
  }
}
