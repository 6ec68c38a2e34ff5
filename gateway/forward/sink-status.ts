/** What /api/status shows for each sink; plain JSON, times as ISO strings. */
import type { CircuitState } from './circuit.js';

export type LoopState = 'starting' | 'idle' | 'lingering' | 'pacing' | 'delivering' | 'backing-off' | 'stopped';

export interface SinkStatus {
  readonly name: string;
  /** What the telemetry lane (or the only lane) is doing right now. */
  readonly state: LoopState;
  /** What the alert lane is doing; null when `alertLane` is off. */
  readonly alertLane: LoopState | null;
  readonly circuit: CircuitState;
  readonly consecutiveFailures: number;
  /** First failure of the current outage; null while healthy. */
  readonly outageSince: string | null;
  readonly circuitOpenedAt: string | null;
  /** When the loop will try again (backing off or pacing); null otherwise. */
  readonly nextAttemptAt: string | null;
  readonly lastError: { readonly reason: string; readonly at: string } | null;
  readonly lastDeliveredAt: string | null;
  /** Highest buffer offset the telemetry lane has settled (delivered or dead-lettered), as a decimal string. */
  readonly settledOffset: string | null;
  readonly delivered: { readonly records: number; readonly batches: number };
  readonly retries: number;
  readonly rejected: { readonly records: number; readonly batches: number };
  /** Records sent with the `replay` flag. */
  readonly replayed: number;
  readonly deadLetter: { readonly file: string; readonly records: number; readonly dropped: number; readonly bytes: number };
}

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
