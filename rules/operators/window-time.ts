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
/** `w[0]` is closedUpTo; windows follow. */
const FIRST = 1;

/**
 * Flat on purpose: every number a key needs lives in one array of doubles
 * (unboxed, contiguous), so a reading touches the state object and one or two
 * cache lines of that array, where an object per window, its accumulator and
 * their boxed numbers cost a cache miss each.
 */
interface TimeWindowState extends LastSeen {
  /** [closedUpTo, then per open window by start: start, accumulator...]: every window ending at or before closedUpTo has closed. */
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
    init: () => ({ w: [Number.MIN_SAFE_INTEGER], values: keepValues ? [] : null, device: '', metric: '', tags: {} }),
    onReading(s, r: ReadingRecord, out) {
      const time = out.time;
      const v = numeric(r.value);
      if (v === undefined) return out.ignored();
      const w = s.w;
      let added = false;
      for (let start = Math.floor(time / hop) * hop; start > time - size; start -= hop) {
        if (start + size <= w[0]!) continue;
        // windows are few (size / hop) and sorted by start: find this one or where it goes
        let at = FIRST;
        while (at < w.length && w[at]! < start) at += STRIDE;
        if (at === w.length || w[at] !== start) {
          w.splice(at, 0, start, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
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
      // usually equal: not storing a reading's fresh strings into old state spares the GC
      if (s.device !== r.device) s.device = r.device;
      if (s.metric !== r.metric) s.metric = r.metric;
      if (s.tags !== r.tags) s.tags = r.tags;
    },
    onWake(s, out) {
      const now = out.time;
      const w = s.w;
      while (w.length > FIRST && w[FIRST]! + size + spec.latenessMs <= now) {
        const start = w[FIRST]!;
        const end = start + size;
        const stats = accResultAt(w, FIRST + 1, s.values?.[0] ?? null, spec.aggregates);
        w.splice(FIRST, STRIDE);
        s.values?.shift();
        w[0] = Math.max(w[0]!, end);
        closeWindow(spec, out, stats, { type, start, end }, s, true);
      }
    },
    nextWake(s, out) {
      if (s.w.length > FIRST) out.wakeAt(s.w[FIRST]! + size + spec.latenessMs);
    },
  };
}
