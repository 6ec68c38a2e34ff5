/**
 * What a run did, counted as it happens: messages and readings sent and
 * acknowledged, per fault, per error code, scheduling lag and (when watching
 * a topic) publish-to-receive latency. Snapshots are plain data for --json.
 */
import { Histogram, type Percentiles } from './histogram.js';

export interface FaultCount {
  /** Timeline entries of this kind that started. */
  events: number;
  /** Messages it changed (or swallowed, for silence). */
  messages: number;
}

export interface StatsSnapshot {
  readonly elapsedMs: number;
  readonly devices: number;
  readonly links: { readonly total: number; readonly connected: number; readonly reconnects: number; readonly disconnects: number };
  readonly messages: {
    readonly sent: number;
    readonly acknowledged: number;
    readonly failed: number;
    readonly pending: number;
    /** Never sent: a silence swallowed them. */
    readonly suppressed: number;
  };
  /** Readings the gateway should make of what was sent / acknowledged (0 for broken messages). */
  readonly readings: { readonly sent: number; readonly acknowledged: number };
  readonly bytes: number;
  readonly rate: { readonly target: number | undefined; readonly achieved: number };
  readonly faults: Readonly<Record<string, FaultCount>>;
  readonly errors: Readonly<Record<string, number>>;
  readonly lastError: string | undefined;
  readonly lagMs: Percentiles;
  readonly latencyMs: Percentiles | undefined;
}

export class SimStats {
  sent = 0;
  acknowledged = 0;
  failed = 0;
  suppressed = 0;
  readingsSent = 0;
  readingsAcknowledged = 0;
  bytes = 0;
  reconnects = 0;
  disconnects = 0;
  lastError: string | undefined;
  readonly lag = new Histogram();
  latency: Histogram | undefined;
  readonly #faults = new Map<string, FaultCount>();
  readonly #errors = new Map<string, number>();

  fault(kind: string): FaultCount {
    let f = this.#faults.get(kind);
    if (!f) this.#faults.set(kind, (f = { events: 0, messages: 0 }));
    return f;
  }

  error(code: string, message: string): void {
    this.#errors.set(code, (this.#errors.get(code) ?? 0) + 1);
    this.lastError = `${code}: ${message}`;
  }

  snapshot(o: { elapsedMs: number; devices: number; links: number; connected: number; targetRate: number | undefined }): StatsSnapshot {
    const seconds = o.elapsedMs / 1000;
    return {
      elapsedMs: Math.round(o.elapsedMs),
      devices: o.devices,
      links: { total: o.links, connected: o.connected, reconnects: this.reconnects, disconnects: this.disconnects },
      messages: {
        sent: this.sent,
        acknowledged: this.acknowledged,
        failed: this.failed,
        pending: this.sent - this.acknowledged - this.failed,
        suppressed: this.suppressed,
      },
      readings: { sent: this.readingsSent, acknowledged: this.readingsAcknowledged },
      bytes: this.bytes,
      rate: { target: o.targetRate, achieved: seconds > 0 ? Math.round((this.acknowledged / seconds) * 10) / 10 : 0 },
      faults: Object.fromEntries([...this.#faults].map(([k, v]) => [k, { ...v }])),
      errors: Object.fromEntries(this.#errors),
      lastError: this.lastError,
      lagMs: this.lag.summary(),
      latencyMs: this.latency?.summary(),
    };
  }
}
