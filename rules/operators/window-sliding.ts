/**
 * Sliding time windows: on every reading the window is (newest - size, newest]
 * and `having` is judged at once, so an alert needs no window boundary to
 * pass. When readings stop, points expire as the clock moves and the verdict
 * is judged again (an alert on `count > 10` clears once the burst is over).
 * Each step recomputes from the kept points: O(points), bounded by
 * limits.maxBufferPerKey.
 */
import type { RuleOperator, OperatorOutput } from '../types.js';
import { accOf, accResult, needsValues } from '../aggregates.js';
import { numeric } from './shared.js';
import { holdUpdate, judgesClear, newHold, type HoldState } from './hold.js';
import { judgeHaving, rememberLast, windowVars, type LastSeen, type WindowSpec } from './window.js';

interface SlidingState {
  ts: number[];
  vs: number[];
  newest: number;
  readonly hold: HoldState;
  last: LastSeen | null;
}

const NO_DEBOUNCE = { forMs: 0, clearForMs: 0 };

export function slidingWindowOperator(spec: WindowSpec, size: number): RuleOperator<SlidingState> {
  const keepValues = needsValues(spec.aggregates);
  const evaluate = (s: SlidingState, end: number, out: OperatorOutput, derive: boolean): void => {
    while (s.ts.length > 0 && s.ts[0]! <= end - size) {
      s.ts.shift();
      s.vs.shift();
    }
    const window = { type: 'sliding', start: end - size, end };
    const stats = s.ts.length > 0 ? accResult(accOf(s.ts, s.vs, keepValues), spec.aggregates) : undefined;
    if (stats && derive && spec.emit) out.derive(spec.emit.metric, stats[spec.emit.value]!, end, spec.emit.unit);
    if (!spec.having) return;
    // an empty window has no statistics; it can only clear
    const verdict = stats ? judgeHaving(spec, out, stats, window, s.last!) : false;
    if (verdict === undefined) return;
    const t = holdUpdate(s.hold, NO_DEBOUNCE, end, judgesClear(s.hold) ? !verdict : verdict);
    if (!t) return;
    const shown = stats ?? { count: 0 };
    const vars = windowVars(shown, window, s.last!);
    const value = shown[spec.aggregates[0]!];
    if (t.kind === 'raise') out.raise(t.at, value, [{ window, stats: shown }], vars);
    else out.clear(t.at, value, [{ window, stats: shown }], vars);
  };
  return {
    init: () => ({ ts: [], vs: [], newest: Number.MIN_SAFE_INTEGER, hold: newHold(), last: null }),
    onReading(s, r, out) {
      const time = out.time;
      const v = numeric(r.value);
      if (v === undefined) return out.ignored();
      if (time <= s.newest - size) return out.late();
      let i = s.ts.length;
      while (i > 0 && s.ts[i - 1]! > time) i--;
      s.ts.splice(i, 0, time);
      s.vs.splice(i, 0, v);
      if (s.ts.length > spec.limits.maxBufferPerKey) {
        s.ts.shift();
        s.vs.shift();
        out.ignored();
      }
      if (time > s.newest) s.newest = time;
      rememberLast(s, r);
      evaluate(s, s.newest, out, true);
    },
    onWake(s, out) {
      const now = out.time;
      evaluate(s, now, out, false);
    },
    // wake when the oldest point leaves the window, so the verdict follows the clock
    nextWake(s, out) {
      if (spec.having && s.ts.length > 0) out.wakeAt(s.ts[0]! + size);
    },
  };
}
