/** The buffer's stats, computed from the in-memory index: cheap enough for every scrape. */
import type { BufferDropReason, BufferStats, SinkBufferStats } from '../core/contracts.js';
import type { SinkCursor } from './cursors.js';
import type { RecoveryReport, SegmentLog } from './log.js';
import type { Rate } from './rate.js';

export interface StatsInput {
  readonly log: SegmentLog;
  readonly cursors: Iterable<SinkCursor>;
  readonly drain: ReadonlyMap<string, Rate>;
  readonly appended: Rate;
  readonly dropped: Record<BufferDropReason, { readings: number; alerts: number }>;
  readonly recovery: RecoveryReport;
  readonly now: number;
}

export function bufferStats(i: StatsInput): BufferStats {
  const { log, now } = i;
  const segs = log.segments;
  let records = 0;
  let alerts = 0;
  let oldest: number | null = null;
  for (const s of segs) {
    records += s.count;
    alerts += s.alerts.length;
    if (oldest === null && s.count > 0) oldest = s.firstTime;
  }
  const appendRate = i.appended.perSecond(now);
  const perSink: Record<string, SinkBufferStats> = {};
  for (const c of i.cursors) {
    const lag = Math.max(0, log.countPresent(c.next, Number.MAX_SAFE_INTEGER) - c.ahead.covered());
    const first = log.firstPresent(c.next);
    const seg = first === undefined ? undefined : segs.find((s) => s.last >= first);
    const drainRate = i.drain.get(c.sink)?.perSecond(now) ?? 0;
    // Net of what keeps arriving: a sink draining only as fast as appends come never catches up.
    const net = drainRate - appendRate;
    perSink[c.sink] = {
      cursor: c.next,
      lag,
      oldestUnsentMs: lag > 0 && seg && first !== undefined ? Math.max(0, now - seg.timeAt(first)) : null,
      drainRate,
      timeToDrainMs: lag === 0 ? 0 : net > 0 ? (lag / net) * 1000 : null,
    };
  }
  const r = i.recovery;
  return {
    records,
    alerts,
    bytes: log.bytes,
    segments: segs.length,
    nextOffset: log.nextOffset,
    oldestAppendedAt: oldest,
    bytesWritten: log.bytesWritten,
    fsyncs: log.fsyncs,
    appendRate,
    dropped: structuredClone(i.dropped),
    recovery: { tornTails: r.tornTails, truncatedBytes: r.truncatedBytes, corruptRegions: r.corruptRegions, skippedRecords: r.skippedRecords, readDamage: log.readDamage },
    perSink,
  };
}
