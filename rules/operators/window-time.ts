/**
 * Tumbling (hop = size) and hopping windows over event time, aligned to the
 * epoch: a reading at ts belongs to every window [start, start + size) with
 * start a multiple of hop and start <= ts < start + size. A window closes when
 * the clock passes its end plus the allowed lateness; a reading for a window
 * already closed is late and counted.
 */
import type { ReadingRecord } from '../../gateway/core/records.js';
import type { OperatorOutput, RuleOperator } from '../types.js';
import { ACC_WIDTH, accAddAt, accResultAt, needsValues } from '../aggregates.js';
import { numeric } from './shared.js';
import { closeWindow, type LastSeen, type WindowSpec } from './window.js';

/** One open window in a key's flat array: its start, then its accumulator. */
const STRIDE = 1 + ACC_WIDTH;
/** `w[CLOSED_UP_TO]`: every window ending at or before this has closed. */
const CLOSED_UP_TO = 0;
/** `w[OPEN]`: how many windows are open; they follow, by start. */
const OPEN = 1;
const FIRST = 2;

/**
 * Every number a key needs lives in one array of doubles (unboxed,
 * contiguous): [closedUpTo, open windows, then per open window: start,
 * accumulator...]; slots past the open ones are spare. It keeps its length
 * when a window closes, so the steady state allocates nothing.
 */
type Windows = number[];

/**
 * The general state: the windows plus what a closed window reports that the
 * key does not fix (its last device, metric and tags), and raw values when a
 * percentile needs them.
 */
interface TimeWindowState extends LastSeen {
  /** Whether device and metric have been taken from a reading (tags are compared on every reading). */
  named: boolean;
  w: Windows;
  /** Raw values of each open window, in the same order, when a percentile needs them. */
  values: number[][] | null;
}

/**
 * A key of one device and one metric without percentiles (the usual window
 * rule) knows its device and metric already and gets its tags from the
 * runtime when a window closes, so its state is the array alone: a reading
 * opens one object where the general state costs two, each mostly a cache
 * miss.
 */
export function timeWindowOperator(spec: WindowSpec, size: number, hop: number): RuleOperator<Windows> | RuleOperator<TimeWindowState> {
  const keepValues = needsValues(spec.aggregates);
  if (!keepValues && spec.deviceKeyed && spec.onlyMetric !== undefined) return leanOperator(spec, size, hop, spec.onlyMetric);
  return generalOperator(spec, size, hop, keepValues);
}

function leanOperator(spec: WindowSpec, size: number, hop: number, metric: string): RuleOperator<Windows> {
  const type = hop === size ? 'tumbling' : 'hopping';
  return {
    // MIN_SAFE_INTEGER is no small integer, so the array holds doubles from the start
    init: () => [Number.MIN_SAFE_INTEGER, 0],
    onReading(w, r: ReadingRecord, out) {
      const time = out.time;
      const v = numeric(r.value);
      if (v === undefined) return out.ignored();
      if (!addToWindows(w, null, time, v, size, hop, 0, out)) out.late();
    },
    onWake(w, out) {
      closeDue(w, null, out, size, spec, type, { device: out.device!, metric, tags: out.tags });
    },
    nextWake: (w, out) => nextClose(w, out, size, spec),
  };
}

function generalOperator(spec: WindowSpec, size: number, hop: number, keepValues: boolean): RuleOperator<TimeWindowState> {
  const type = hop === size ? 'tumbling' : 'hopping';
  const maxValues = spec.limits.maxBufferPerKey;
  return {
    init: () => ({ w: [Number.MIN_SAFE_INTEGER, 0], values: keepValues ? [] : null, named: false, device: '', metric: '', tags: {} }),
    onReading(s, r: ReadingRecord, out) {
      const time = out.time;
      const v = numeric(r.value);
      if (v === undefined) return out.ignored();
      if (!addToWindows(s.w, s.values, time, v, size, hop, maxValues, out)) return out.late();
      if (!s.named) {
        s.device = r.device;
        s.metric = r.metric;
        s.named = true;
      } else {
        // A key's device or metric may be fixed (per device, one metric): then the stored
        // strings are not compared, which would fetch them into the cache. Otherwise usually
        // equal: not storing a reading's fresh strings into old state spares the GC.
        if (!spec.deviceKeyed && s.device !== r.device) s.device = r.device;
        if (spec.onlyMetric === undefined && s.metric !== r.metric) s.metric = r.metric;
      }
      if (s.tags !== r.tags) s.tags = r.tags;
    },
    onWake: (s, out) => closeDue(s.w, s.values, out, size, spec, type, s),
    nextWake: (s, out) => nextClose(s.w, out, size, spec),
  };
}

/** Adds a value to every window holding `time`, opening those not open yet; false when all of them have closed (late). */
function addToWindows(w: Windows, values: number[][] | null, time: number, v: number, size: number, hop: number, maxValues: number, out: OperatorOutput): boolean {
  let added = false;
  for (let start = Math.floor(time / hop) * hop; start > time - size; start -= hop) {
    if (start + size <= w[CLOSED_UP_TO]!) continue;
    // windows are few (size / hop) and sorted by start: find this one or where it goes
    const end = FIRST + w[OPEN]! * STRIDE;
    let at = FIRST;
    while (at < end && w[at]! < start) at += STRIDE;
    if (at === end || w[at] !== start) {
      openWindow(w, at, start);
      values?.splice((at - FIRST) / STRIDE, 0, []);
    }
    accAddAt(w, at + 1, v, time);
    const kept = values?.[(at - FIRST) / STRIDE];
    if (kept) {
      if (kept.length < maxValues) kept.push(v);
      else out.ignored();
    }
    added = true;
  }
  return added;
}

/** Closes, in order, every window whose end plus the lateness has passed. */
function closeDue(w: Windows, values: number[][] | null, out: OperatorOutput, size: number, spec: WindowSpec, type: string, last: LastSeen): void {
  const now = out.time;
  while (w[OPEN]! > 0 && w[FIRST]! + size + spec.latenessMs <= now) {
    const start = w[FIRST]!;
    const end = start + size;
    const stats = accResultAt(w, FIRST + 1, values?.[0] ?? null, spec.aggregates);
    closeFirst(w);
    values?.shift();
    w[CLOSED_UP_TO] = Math.max(w[CLOSED_UP_TO]!, end);
    closeWindow(spec, out, stats, { type, start, end }, last, true);
  }
}

function nextClose(w: Windows, out: OperatorOutput, size: number, spec: WindowSpec): void {
  if (w[OPEN]! > 0) out.wakeAt(w[FIRST]! + size + spec.latenessMs);
}

/** Opens an empty window starting at `start` in slot `at`, moving later windows up one stride. */
function openWindow(w: Windows, at: number, start: number): void {
  const end = FIRST + w[OPEN]! * STRIDE;
  while (w.length < end + STRIDE) w.push(0);
  for (let i = end - 1; i >= at; i--) w[i + STRIDE] = w[i]!;
  w[at] = start;
  for (let i = at + 1; i < at + STRIDE; i++) w[i] = 0;
  w[OPEN] = w[OPEN]! + 1;
}

/** Drops the first open window, moving the others down one stride. */
function closeFirst(w: Windows): void {
  const end = FIRST + w[OPEN]! * STRIDE;
  for (let i = FIRST; i < end - STRIDE; i++) w[i] = w[i + STRIDE]!;
  w[OPEN] = w[OPEN]! - 1;
}
