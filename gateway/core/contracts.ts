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

/** Durable log with one cursor per sink. */
export interface RecordBuffer {
  append(records: readonly PipelineRecord[]): Promise<void>;
  read(sink: string, max: number): Promise<readonly BufferedRecord[]>;
  ack(sink: string, upTo: bigint): Promise<void>;
  stats(): BufferStats;
}
export interface BufferedRecord {
  readonly offset: bigint;
  readonly record: PipelineRecord;
}
export interface BufferStats {
  readonly records: number;
  readonly bytes: number;
  readonly perSink: Readonly<Record<string, { readonly lag: number; readonly oldestUnsentMs: number | null }>>;
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
