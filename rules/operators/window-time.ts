/**
 * Tumbling (hop = size) and hopping windows over event time, aligned to the
 * epoch: a reading at ts belongs to every window [start, start + size) with
 * start a multiple of hop and start <= ts < start + size. A window closes when
 * the clock passes its end plus the allowed lateness; a reading for a window
 * already closed is late and counted.
 */
import type { ReadingRecord } from '../../gateway/core/records.js';
import type { RuleOperator } from '../types.js';
import { accAdd, accResult, newAcc, needsValues, type Acc } from '../aggregates.js';
import { numeric } from './shared.js';
import { closeWindow, type LastSeen, type WindowSpec } from './window.js';

interface OpenWindow {
  readonly start: number;
  readonly acc: Acc;
}

interface TimeWindowState {
  /** Open windows, by start. */
  open: OpenWindow[];
  /** Every window ending at or before this has closed. */
  closedUpTo: number;
  last: LastSeen | null;
}

export function timeWindowOperator(spec: WindowSpec, size: number, hop: number): RuleOperator<TimeWindowState> {
  const keepValues = needsValues(spec.aggregates);
  const type = hop === size ? 'tumbling' : 'hopping';
  return {
    init: () => ({ open: [], closedUpTo: Number.MIN_SAFE_INTEGER, last: null }),
    onReading(s, r: ReadingRecord, time, out) {
      const v = numeric(r.value);
      if (v === undefined) return out.ignored();
      let added = false;
      for (let start = Math.floor(time / hop) * hop; start > time - size; start -= hop) {
        if (start + size <= s.closedUpTo) continue;
        let w: OpenWindow | undefined;
        for (const x of s.open) if (x.start === start) w = x;
        if (!w) {
          w = { start, acc: newAcc(keepValues) };
          s.open.push(w);
          s.open.sort((a, b) => a.start - b.start);
        }
        if (!accAdd(w.acc, v, time, spec.limits.maxBufferPerKey)) out.ignored();
        added = true;
      }
      if (!added) return out.late();
      const last = s.last;
      if (last === null) s.last = { device: r.device, metric: r.metric, tags: r.tags };
      else {
        // usually equal: not storing a reading's fresh strings into old state spares the GC
        if (last.device !== r.device) last.device = r.device;
        if (last.metric !== r.metric) last.metric = r.metric;
        if (last.tags !== r.tags) last.tags = r.tags;
      }
    },
    onWake(s, now, out) {
      while (s.open.length > 0 && s.open[0]!.start + size + spec.latenessMs <= now) {
        const w = s.open.shift()!;
        const end = w.start + size;
        s.closedUpTo = Math.max(s.closedUpTo, end);
        closeWindow(spec, out, accResult(w.acc, spec.aggregates), { type, start: w.start, end }, s.last!, true);
      }
    },
    nextWake: (s) => (s.open.length > 0 ? s.open[0]!.start + size + spec.latenessMs : undefined),
  };
}
