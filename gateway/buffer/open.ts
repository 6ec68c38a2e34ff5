/**
 * Opening the buffer: take the directory, load the sink cursors, recover the
 * log, and reconcile the configured sinks with the cursors found. A damaged
 * file never stops the gateway: what cannot be read is skipped and reported.
 *
 *   dir/LOCK              the writer's pid and boot id
 *   dir/segments/*.log    the log, named by first offset
 *   dir/cursors/*.json    one cursor per sink
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../core/contracts.js';
import { SystemClock } from '../core/clock.js';
import { WeirError, isWeirError } from '../core/errors.js';
import type { Metrics } from '../metrics/metrics.js';
import { DiskBuffer } from './buffer.js';
import { bufferConfig, bufferLimits, type BufferConfig } from './config.js';
import { SinkCursor, loadCursors, removeCursor, saveCursor } from './cursors.js';
import { SegmentLog } from './log.js';
import { lockDir } from './lock.js';

export interface OpenBufferOptions {
  /** The buffer's own directory; `bufferDir(dataDir)` by convention. */
  readonly dir: string;
  readonly config: BufferConfig;
  /** The configured sinks. A sink not seen before starts at the head; a cursor for a sink no longer listed is removed. */
  readonly sinks: readonly string[];
  readonly clock?: Clock;
  readonly log: Logger;
  readonly metrics?: Metrics;
}

export function bufferDir(dataDir: string): string {
  return join(dataDir, 'buffer');
}

export async function openBuffer(options: OpenBufferOptions): Promise<DiskBuffer> {
  const limits = bufferLimits(options.config);
  const logger = options.log.child({ component: 'buffer' });
  const { dir } = options;
  const cursorDir = join(dir, 'cursors');
  try {
    mkdirSync(cursorDir, { recursive: true });
  } catch (e) {
    throw new WeirError('BUFFER_OPEN_FAILED', `cannot create the buffer directory ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const lock = lockDir(dir);
  try {
    // A cursor save cut short by a crash leaves its temp file; the cursor itself is intact.
    for (const n of readdirSync(cursorDir).filter((x) => x.endsWith('.tmp'))) rmSync(join(cursorDir, n), { force: true });
    const loaded = await loadCursors(cursorDir);
    // New offsets start above anything a sink has acked, even records a power cut took back:
    // a reused offset would be skipped as already delivered.
    const floor = Math.max(0, ...loaded.map((l) => (l.ok ? Math.max(l.cursor.next, (l.cursor.ahead.pairs().at(-1)?.[1] ?? -1) + 1) : 0)));
    const { log, recovery } = await SegmentLog.open(join(dir, 'segments'), { readOnly: false, floor, log: logger });
    const oldest = log.segments.find((s) => s.count > 0)?.first ?? log.nextOffset;
    const cursors = new Map<string, SinkCursor>();
    for (const sink of new Set(options.sinks)) {
      const found = loaded.find((l) => (l.ok ? l.cursor.sink : l.sink) === sink);
      if (found?.ok) {
        cursors.set(sink, found.cursor);
        continue;
      }
      // A damaged cursor re-sends everything still buffered: duplicates, never loss.
      const cursor = new SinkCursor(sink, found ? oldest : log.nextOffset);
      if (found) logger.warn({ sink, error: found.error }, 'A sink cursor file was unreadable; the sink gets everything still buffered again.');
      else logger.info({ sink, offset: cursor.next }, 'New sink: it receives records appended from now on.');
      await saveCursor(cursorDir, cursor);
      cursors.set(sink, cursor);
    }
    for (const l of loaded) {
      const sink = l.ok ? l.cursor.sink : l.sink;
      if (cursors.has(sink)) continue;
      await removeCursor(cursorDir, sink);
      logger.warn({ sink, cursor: l.ok ? l.cursor.next : null }, 'A sink is no longer configured; its cursor was removed and what only it still needed will be reclaimed.');
    }
    const metrics = options.metrics;
    if (recovery.tornTails) metrics?.bufferRecoveries.inc({ found: 'torn-tail' }, recovery.tornTails);
    if (recovery.corruptRegions) {
      metrics?.bufferRecoveries.inc({ found: 'corrupt' }, recovery.corruptRegions);
      metrics?.bufferDropped.inc({ reason: 'corrupt', kind: 'unknown' }, recovery.skippedRecords);
    }
    const buffer = new DiskBuffer({ log, recovery, cursors, cursorDir, limits, clock: options.clock ?? new SystemClock(), logger, metrics, lock });
    const s = buffer.stats();
    const damaged = recovery.tornTails + recovery.corruptRegions > 0;
    logger[damaged ? 'warn' : 'info'](
      { records: s.records, bytes: s.bytes, segments: s.segments, sinks: [...cursors.keys()], ...(damaged ? { recovery } : {}) },
      damaged ? 'Buffer open; it recovered from damage (see recovery).' : 'Buffer open.',
    );
    return buffer;
  } catch (e) {
    lock.release();
    if (isWeirError(e)) throw e;
    throw new WeirError('BUFFER_OPEN_FAILED', `cannot open the buffer in ${dir}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * A read-only view for `weir buffer stats|inspect`: no lock, nothing written,
 * every cursor file found is a sink; a partial frame at the end of the newest
 * segment is a write in progress by a running gateway, not damage.
 */
export async function openBufferReadOnly(dir: string, log: Logger): Promise<DiskBuffer> {
  const logger = log.child({ component: 'buffer' });
  const cursorDir = join(dir, 'cursors');
  const loaded = await loadCursors(cursorDir);
  const { log: segLog, recovery } = await SegmentLog.open(join(dir, 'segments'), { readOnly: true, floor: 0, log: logger });
  const cursors = new Map<string, SinkCursor>();
  for (const l of loaded) cursors.set(l.ok ? l.cursor.sink : l.sink, l.ok ? l.cursor : new SinkCursor(l.sink, 0));
  const limits = bufferLimits(bufferConfig());
  return new DiskBuffer({ log: segLog, recovery, cursors, cursorDir, limits, clock: new SystemClock(), logger, metrics: undefined, lock: undefined });
}
