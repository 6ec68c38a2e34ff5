/** What /api/status shows for a serial port: its state, how fresh its data is, and what it survived. */

export type SerialState = 'opening' | 'open' | 'retrying' | 'closed' | 'stopped';

export interface SerialCounters {
  bytes: number;
  /** Frames handed to the pipeline (decode errors are counted there, per device). */
  frames: number;
  /** Bytes that formed no frame: overlong lines, noise before a sync pattern, bad SLIP/COBS. */
  discarded: number;
  checksumErrors: number;
  /** Partial frames dropped at a disconnect or before a poll request. */
  partialFrames: number;
  headers: number;
  polls: number;
  pollTimeouts: number;
  /** Frames of a polled device outside any request window (late answers). */
  lateFrames: number;
  opens: number;
  openFailures: number;
  disconnects: number;
  watchdogReopens: number;
  ingestFailures: number;
}

export function newSerialCounters(): SerialCounters {
  return {
    bytes: 0,
    frames: 0,
    discarded: 0,
    checksumErrors: 0,
    partialFrames: 0,
    headers: 0,
    polls: 0,
    pollTimeouts: 0,
    lateFrames: 0,
    opens: 0,
    openFailures: 0,
    disconnects: 0,
    watchdogReopens: 0,
    ingestFailures: 0,
  };
}

export interface SerialPortStatus {
  readonly name: string;
  readonly path: string;
  readonly device: string;
  readonly profile: string;
  readonly state: SerialState;
  /** When the port entered this state (ISO 8601). */
  readonly since: string;
  readonly lastError: string | null;
  readonly lastFrameAgeMs: number | null;
  readonly nextAttemptInMs: number | null;
  readonly counters: Readonly<SerialCounters>;
}
