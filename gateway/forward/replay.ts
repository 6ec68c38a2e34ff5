/**
 * The replay marker. A reading whose delivery an outage delayed goes out with
 * `replay` in its flags, so consumers can tell backfill from live data.
 *
 * Rule: a reading is marked when it was received before the latest moment this
 * sink was known to be failing or just recovering (`replayBefore`). On every
 * failed attempt and at the first success after failures, `replayBefore`
 * moves to "now"; records received after recovery are live and not marked,
 * even if they wait behind the backlog. This marks a superset of "received
 * before the circuit opened": the batch in flight when the outage began and
 * everything that queued up during it. A restart of weir counts as an outage
 * that began before the process started: what the buffer still holds from
 * before the start goes out marked.
 *
 * Alerts are never marked: AlertRecord v1 has no flags (additionalProperties:
 * false), and an alert carries its own event time `ts`.
 */
import type { PipelineRecord } from '../core/contracts.js';

export function markReplays(batch: readonly PipelineRecord[], replayBefore: number): { records: readonly PipelineRecord[]; marked: number } {
  let marked = 0;
  const records = batch.map((r) => {
    if (r.kind !== 'reading' || r.receivedAt > replayBefore) return r;
    marked++;
    if (r.flags?.includes('replay')) return r;
    return { ...r, flags: [...(r.flags ?? []), 'replay' as const] };
  });
  return { records: marked ? records : batch, marked };
}
