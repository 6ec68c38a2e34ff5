/**
 * The disk budget. Space comes back a whole segment at a time: first segments
 * every sink is past (reclamation, no loss), then under `drop-oldest` the
 * oldest undelivered readings, whose alerts are kept by rewriting the segment
 * without its readings, and only when nothing but alerts is left, the oldest
 * alerts. Every record dropped before every sink had it is counted by reason.
 */
import type { Logger } from 'pino';
import type { BufferDropReason } from '../core/contracts.js';
import type { Metrics } from '../metrics/metrics.js';
import { KIND_ALERT } from './frame.js';
import type { SegmentLog } from './log.js';
import type { Segment } from './segment.js';

export class DropCounter {
  readonly counts: Record<BufferDropReason, { readings: number; alerts: number }> = {
    'max-bytes': { readings: 0, alerts: 0 },
    'max-age': { readings: 0, alerts: 0 },
    rejected: { readings: 0, alerts: 0 },
  };
  readonly #metrics: Metrics | undefined;

  constructor(metrics: Metrics | undefined) {
    this.#metrics = metrics;
  }

  add(reason: BufferDropReason, readings: number, alerts: number): void {
    this.counts[reason].readings += readings;
    this.counts[reason].alerts += alerts;
    if (readings) this.#metrics?.bufferDropped.inc({ reason, kind: 'reading' }, readings);
    if (alerts) this.#metrics?.bufferDropped.inc({ reason, kind: 'alert' }, alerts);
  }
}

export interface BudgetContext {
  readonly log: SegmentLog;
  readonly drops: DropCounter;
  readonly logger: Logger;
  readonly segmentBytes: number;
  /** The lowest cursor over all sinks: records below it every sink has had. */
  minNext(): number;
}

/** Deletes closed segments every sink is past. */
export async function reclaim(ctx: BudgetContext): Promise<void> {
  const minNext = ctx.minNext();
  for (const seg of closedSegments(ctx.log)) {
    if (seg.last >= minNext && seg.count > 0) break;
    await ctx.log.remove(seg);
  }
}

/** Under `drop-oldest`: frees at least `need` bytes if it can; returns how many it freed. */
export async function makeRoom(ctx: BudgetContext, need: number): Promise<number> {
  const before = ctx.log.bytes;
  let readings = 0;
  let alerts = 0;
  while (before - ctx.log.bytes < need) {
    const minNext = ctx.minNext();
    const closed = closedSegments(ctx.log);
    const acked = closed.find((s) => s.count === 0 || s.last < minNext);
    // Oldest first among segments that still hold readings: alerts are kept ahead of telemetry.
    const withReadings = closed.find((s) => s.readings > 0);
    if (acked) {
      await ctx.log.remove(acked);
    } else if (withReadings) {
      readings += withReadings.countFrom(minNext) - withReadings.alertsFrom(minNext);
      if (withReadings.alertsFrom(minNext) > 0) await ctx.log.compact(withAlertOnlyBefore(ctx, withReadings), (f) => f.kind === KIND_ALERT && f.offset >= minNext);
      else await ctx.log.remove(withReadings);
    } else if (closed[0]) {
      alerts += closed[0].alertsFrom(minNext);
      await ctx.log.remove(closed[0]);
    } else if ((ctx.log.active?.count ?? 0) > 0) {
      await ctx.log.roll(); // the active segment becomes closed and can go next round
    } else {
      break;
    }
  }
  report(ctx, 'max-bytes', readings, alerts);
  return before - ctx.log.bytes;
}

/**
 * Drops segments whose newest record is older than `cutoff`, and rolls the
 * active segment once its oldest record is `rollAfter` old, so age is enforced
 * within a fraction of maxAge even when appends are slow.
 */
export async function expire(ctx: BudgetContext, cutoff: number, rollBefore: number): Promise<void> {
  const active = ctx.log.active;
  if (active && active.count > 0 && active.firstTime < rollBefore) await ctx.log.roll();
  const minNext = ctx.minNext();
  let readings = 0;
  let alerts = 0;
  for (const seg of closedSegments(ctx.log)) {
    if (seg.count > 0 && seg.lastTime >= cutoff) break;
    alerts += seg.alertsFrom(minNext);
    readings += seg.countFrom(minNext) - seg.alertsFrom(minNext);
    await ctx.log.remove(seg);
  }
  report(ctx, 'max-age', readings, alerts);
}

/** `seg`, and the alert-only segment just before it if the two fit in one: keeps the file count from growing with every compaction. */
function withAlertOnlyBefore(ctx: BudgetContext, seg: Segment): Segment[] {
  const list = ctx.log.segments;
  const prev = list[list.indexOf(seg) - 1];
  if (prev && prev.readings === 0 && prev.count > 0 && prev.size + seg.alertBytes <= ctx.segmentBytes) return [prev, seg];
  return [seg];
}

function closedSegments(log: SegmentLog): Segment[] {
  const active = log.active;
  return log.segments.filter((s) => s !== active);
}

function report(ctx: BudgetContext, reason: BufferDropReason, readings: number, alerts: number): void {
  if (readings + alerts === 0) return;
  ctx.drops.add(reason, readings, alerts);
  ctx.logger.warn({ reason, readings, alerts, bytes: ctx.log.bytes }, 'The buffer dropped records some sinks had not had yet (its budget was spent).');
}
