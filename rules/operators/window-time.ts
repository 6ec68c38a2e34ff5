/**
 * Tumbling (hop = size) and hopping windows over event time, aligned to the
 * epoch: a reading at ts belongs to every window [start, start + size) with
 * start a multiple of hop and start <= ts < start + size. A window closes when
 * the clock passes its end plus the allowed lateness; a reading for a window
 * already closed is late and counted.
 */
import type { ReadingRecord } from '../../gateway/core/records.js';
import type { RuleOperator } from '../types.js';
import { ACC_WIDTH, accAddAt, accResultAt, needsValues } from '../aggregates.js';
import { numeric } from './shared.js';
import { closeWindow, type LastSeen, type WindowSpec } from './window.js';

/** One open window in `TimeWindowState.w`: its start, then its accumulator. */
const STRIDE = 1 + ACC_WIDTH;
/** `w[CLOSED_UP_TO]`: every window ending at or before this has closed. */
const CLOSED_UP_TO = 0;
/** `w[OPEN]`: how many windows are open; they follow, by start. */
const OPEN = 1;
const FIRST = 2;

/**
 * Flat on purpose: every number a key needs lives in one array of doubles
 * (unboxed, contiguous), so a reading touches the state object and one or two
 * cache lines of that array, where an object per window, its accumulator and
 * their boxed numbers cost a cache miss each. The array keeps its length when
 * a window closes, so the steady state allocates nothing.
 */
interface TimeWindowState extends LastSeen {
  /** Whether device and metric have been taken from a reading (tags are compared on every reading). */
  named: boolean;
  /** [closedUpTo, open windows, then per open window: start, accumulator...]; slots past the open ones are spare. */
  w: number[];
  /** Raw values of each open window, in the same order, when a percentile needs them. */
  values: number[][] | null;
}

export function timeWindowOperator(spec: WindowSpec, size: number, hop: number): RuleOperator<TimeWindowState> {
  const keepValues = needsValues(spec.aggregates);
  const type = hop === size ? 'tumbling' : 'hopping';
  const maxValues = spec.limits.maxBufferPerKey;
  return {
    // MIN_SAFE_INTEGER is no small integer, so the array holds doubles from the start
    init: () => ({ w: [Number.MIN_SAFE_INTEGER, 0], values: keepValues ? [] : null, named: false, device: '', metric: '', tags: {} }),
    onReading(s, r: ReadingRecord, out) {
      const time = out.time;
      const v = numeric(r.value);
      if (v === undefined) return out.ignored();
      const w = s.w;
      let added = false;
      for (let start = Math.floor(time / hop) * hop; start > time - size; start -= hop) {
        if (start + size <= w[CLOSED_UP_TO]!) continue;
        // windows are few (size / hop) and sorted by start: find this one or where it goes
        const end = FIRST + w[OPEN]! * STRIDE;
        let at = FIRST;
        while (at < end && w[at]! < start) at += STRIDE;
        if (at === end || w[at] !== start) {
          openWindow(w, at, start);
          s.values?.splice((at - FIRST) / STRIDE, 0, []);
        }
        accAddAt(w, at + 1, v, time);
        const values = s.values?.[(at - FIRST) / STRIDE];
        if (values) {
          if (values.length < maxValues) values.push(v);
          else out.ignored();
        }
        added = true;
      }
      if (!added) return out.late();
      if (!s.named) {
        s.device = r.device;
        s.metric = r.metric;
        s.named = true;
      } else {
        // A key's device and metric are often fixed (per device, one metric): then the stored
        // strings are not compared, which would fetch them into the cache. Otherwise usually
        // equal: not storing a reading's fresh strings into old state spares the GC.
        if (!spec.deviceKeyed && s.device !== r.device) s.device = r.device;
        if (!spec.oneMetric && s.metric !== r.metric) s.metric = r.metric;
      }
      if (s.tags !== r.tags) s.tags = r.tags;
    },
    onWake(s, out) {
      const now = out.time;
      const w = s.w;
      while (w[OPEN]! > 0 && w[FIRST]! + size + spec.latenessMs <= now) {
        const start = w[FIRST]!;
        const end = start + size;
        const stats = accResultAt(w, FIRST + 1, s.values?.[0] ?? null, spec.aggregates);
        closeFirst(w);
        s.values?.shift();
        w[CLOSED_UP_TO] = Math.max(w[CLOSED_UP_TO]!, end);
        closeWindow(spec, out, stats, { type, start, end }, s, true);
      }
    },
    nextWake(s, out) {
      if (s.w[OPEN]! > 0) out.wakeAt(s.w[FIRST]! + size + spec.latenessMs);
    },
  };
}

/** Opens an empty window starting at `start` in slot `at`, moving later windows up one stride. */
function openWindow(w: number[], at: number, start: number): void {
  const end = FIRST + w[OPEN]! * STRIDE;
  while (w.length < end + STRIDE) w.push(0);
  for (let i = end - 1; i >= at; i--) w[i + STRIDE] = w[i]!;
  w[at] = start;
  for (let i = at + 1; i < at + STRIDE; i++) w[i] = 0;
  w[OPEN] = w[OPEN]! + 1;
}

/** Drops the first open window, moving the others down one stride. */
function closeFirst(w: number[]): void {
  const end = FIRST + w[OPEN]! * STRIDE;
  for (let i = FIRST; i < end - STRIDE; i++) w[i] = w[i + STRIDE]!;
  w[OPEN] = w[OPEN]! - 1;
}
