/**
 * The pipeline contracts. Every stage of weir is one of these small interfaces;
 * components implement them, and only the composition root (gateway/app) wires
 * concrete parts together. This file imports nothing of ours on purpose.
 *
 *   Source ─► Frame ─► Decoder ─► Reading ─► Operator ─► Record ─► Buffer ─► Sink
 */
import type { ReadingRecord, AlertRecord } from './records.js';

/** Raw bytes as they arrived, with where they came from. */
export interface Frame {
  /** Source kind and instance, e.g. `mqtt:embedded`, `serial:/dev/ttyUSB0`. */
  readonly source: string;
  /** Address inside the source: an MQTT topic, a serial port path, a GPIO pin. */
  readonly address: string;
  readonly payload: Buffer;
  /** Wall-clock ms when the gateway received the bytes. */
  readonly receivedAt: number;
  /** Transport facts a decoder or ACL may care about (client id, qos, retain...). */
  readonly meta?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * What a source hands to the pipeline. The promise resolves once the frame is
 * accepted as far as weir promises (durable, once the buffer exists); a QoS 1/2
 * acknowledgement to a device waits on it.
 */
export type Ingest = (frame: Frame) => void | Promise<void>;
/** A source reports trouble it survived (bad bytes, reconnects) without throwing. */
export type IngestError = (error: SourceProblem) => void;

export interface SourceProblem {
  readonly source: string;
  readonly code: string;
  readonly message: string;
  readonly device?: string;
  readonly sample?: Buffer;
}

export interface Source {
  readonly name: string;
  start(ingest: Ingest, ingestError: IngestError): Promise<void>;
  stop(): Promise<void>;
}

/** A reading before the gateway stamps identity and receive time on it. */
export interface DecodedReading {
  readonly device: string;
  readonly metric: string;
  readonly value: number | boolean | string;
  /** Event time in epoch ms, when the payload carried one. */
  readonly ts?: number;
  readonly unit?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

/** Context a decoder gets from routing: named topic segments and profile facts. */
export interface DecodeContext {
  readonly params: Readonly<Record<string, string>>;
}

export type DecodeResult =
  | { readonly ok: true; readonly readings: readonly DecodedReading[] }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** Pure: bytes in, readings out. No I/O, no clock, no throwing on bad input. */
export interface Decoder {
  readonly kind: string;
  decode(payload: Buffer, context: DecodeContext): DecodeResult;
}

/** A clock operators and timers read; tests inject a virtual one. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}
export interface TimerHandle {
  readonly id: number;
}

export type PipelineRecord = ReadingRecord | AlertRecord;

/** Streaming operator: sees records in order, emits zero or more, may keep state. */
export interface Operator {
  readonly id: string;
  process(record: ReadingRecord, emit: (out: PipelineRecord) => void): void;
  snapshot?(): unknown;
  restore?(state: unknown): void;
}

/**
 * Durable log with one cursor per sink. Offsets rise in append order and are
 * never reused; reads return records in that order, so each device stays in order.
 */
export interface RecordBuffer {
  /**
   * Resolves once the records are durable under the fsync policy (concurrent
   * appends share one write and fsync). Rejects with a WeirError: BUFFER_FULL
   * (budget spent under `reject-new`, or larger than the budget),
   * BUFFER_WRITE_FAILED, BUFFER_CLOSED. An empty append resolves at once.
   */
  append(records: readonly PipelineRecord[]): Promise<void>;
  /**
   * Calls `listener` each time appended records have become durable (once per
   * group commit): how the delivery loops learn there is something to send,
   * without a promise per append on the ingest path.
   */
  onDurable(listener: () => void): void;
  /**
   * Up to `max` records `sink` has not had, in append order, from its cursor
   * (or from `options.from`, if later), skipping what was acked out of order.
   * Reading does not move the cursor: the same records come back until acked.
   */
  read(sink: string, max: number, options?: BufferReadOptions): Promise<readonly BufferedRecord[]>;
  /** `sink` has every record up to and including `upTo` (cumulative). */
  ack(sink: string, upTo: bigint): Promise<void>;
  /**
   * `sink` has these records, delivered out of order (an alert lane, a live
   * lane ahead of the backlog); its cursor skips them when it gets there.
   */
  ackEach(sink: string, offsets: readonly bigint[]): Promise<void>;
  /** The offset the next appended record will get: a "live from here" mark. */
  nextOffset(): bigint;
  stats(): BufferStats;
  /** Writes what is pending, saves cursors, releases the directory. */
  close(): Promise<void>;
}
export interface BufferReadOptions {
  /** Start here instead of at the cursor (when later than it). */
  readonly from?: bigint;
  /** Only this kind: `alert` is the priority lane (alerts are indexed, reading them costs no scan). */
  readonly kind?: PipelineRecord['kind'];
}
export interface BufferedRecord {
  readonly offset: bigint;
  /** When the buffer wrote it, epoch ms. */
  readonly appendedAt: number;
  readonly record: PipelineRecord;
}
/** Why records left the buffer undelivered (damage is counted under `recovery`). */
export type BufferDropReason = 'max-bytes' | 'max-age' | 'rejected';
export interface BufferStats {
  /** Records on disk (delivered to some sinks or none), and how many are alerts. */
  readonly records: number;
  readonly alerts: number;
  readonly bytes: number;
  readonly segments: number;
  readonly nextOffset: number;
  readonly oldestAppendedAt: number | null;
  /** Since open: bytes written to disk (SD card wear), fsyncs, records appended per second (last minute). */
  readonly bytesWritten: number;
  readonly fsyncs: number;
  readonly appendRate: number;
  /** Since open: records dropped or refused before every sink had them, by reason and kind. */
  readonly dropped: Readonly<Record<BufferDropReason, { readonly readings: number; readonly alerts: number }>>;
  /** Damage found when the buffer was opened, and by reads since. */
  readonly recovery: {
    readonly tornTails: number;
    readonly truncatedBytes: number;
    readonly corruptRegions: number;
    readonly skippedRecords: number;
    readonly readDamage: number;
  };
  readonly perSink: Readonly<Record<string, SinkBufferStats>>;
}
export interface SinkBufferStats {
  /** First offset not yet acked in order. */
  readonly cursor: number;
  /** Records the sink has not had. */
  readonly lag: number;
  /** Age of the oldest record the sink has not had, ms; null when caught up. */
  readonly oldestUnsentMs: number | null;
  /** Records per second acked over the last minute. */
  readonly drainRate: number;
  /** lag / (drain rate - append rate), ms; 0 when caught up, null while not catching up. */
  readonly timeToDrainMs: number | null;
}

export type DeliveryOutcome =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'retry'; readonly reason: string; readonly afterMs?: number }
  | { readonly kind: 'rejected'; readonly reason: string };

export interface Sink {
  readonly name: string;
  deliver(batch: readonly PipelineRecord[]): Promise<DeliveryOutcome>;
  close(): Promise<void>;
}
