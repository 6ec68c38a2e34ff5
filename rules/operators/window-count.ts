/** Count windows: every `size` readings of a key make one window, in arrival order. */
import type { RuleOperator } from '../types.js';
import { accAdd, accCount, accFirstTs, accResult, newAcc, needsValues, type Acc } from '../aggregates.js';
import { numeric } from './shared.js';
import { closeWindow, type WindowSpec } from './window.js';

interface CountState {
  acc: Acc;
}

export function countWindowOperator(spec: WindowSpec, size: number): RuleOperator<CountState> {
  const keepValues = needsValues(spec.aggregates);
  return {
    init: () => ({ acc: newAcc(keepValues) }),
    onReading(s, r, out) {
      const time = out.time;
      const v = numeric(r.value);
      if (v === undefined) return out.ignored();
      accAdd(s.acc, v, time, spec.limits.maxBufferPerKey);
      if (accCount(s.acc) < size) return;
      const acc = s.acc;
      s.acc = newAcc(keepValues);
      const window = { type: 'count', start: accFirstTs(acc), end: time };
      closeWindow(spec, out, accResult(acc, spec.aggregates), window, { device: r.device, metric: r.metric, tags: r.tags }, true);
    },
    onWake() {},
    nextWake() {},
  };
}
