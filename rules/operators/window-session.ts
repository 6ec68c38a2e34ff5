/**
 * Session windows: a key's readings belong to one session while no gap
 * between them exceeds `gap`; the session [first, last + gap) closes when the
 * clock passes last + gap plus the allowed lateness, or when a reading arrives
 * beyond the gap. A reading exactly `gap` after the previous one still belongs.
 */
import type { RuleOperator, OperatorOutput } from '../types.js';
import { accAdd, accResult, newAcc, needsValues, type Acc } from '../aggregates.js';
import { numeric } from './shared.js';
import { closeWindow, rememberLast, type LastSeen, type WindowSpec } from './window.js';

interface Session {
  start: number;
  last: number;
  readonly acc: Acc;
}

interface SessionState {
  current: Session | null;
  closedUpTo: number;
  last: LastSeen | null;
}

export function sessionWindowOperator(spec: WindowSpec, gap: number): RuleOperator<SessionState> {
  const keepValues = needsValues(spec.aggregates);
  const close = (s: SessionState, out: OperatorOutput): void => {
    const c = s.current!;
    s.current = null;
    s.closedUpTo = c.last + gap;
    closeWindow(spec, out, accResult(c.acc, spec.aggregates), { type: 'session', start: c.start, end: c.last + gap }, s.last!, true);
  };
  return {
    init: () => ({ current: null, closedUpTo: Number.MIN_SAFE_INTEGER, last: null }),
    onReading(s, r, out) {
      const time = out.time;
      const v = numeric(r.value);
      if (v === undefined) return out.ignored();
      if (time < s.closedUpTo) return out.late();
      if (s.current && time > s.current.last + gap) close(s, out);
      let c = s.current;
      if (!c) c = s.current = { start: time, last: time, acc: newAcc(keepValues) };
      else if (time < c.start) {
        if (time < c.start - gap) return out.late(); // would have been an earlier session
        c.start = time;
      }
      if (time > c.last) c.last = time;
      if (!accAdd(c.acc, v, time, spec.limits.maxBufferPerKey)) out.ignored();
      rememberLast(s, r);
    },
    onWake(s, out) {
      const now = out.time;
      if (s.current && s.current.last + gap + spec.latenessMs < now) close(s, out);
    },
    // a reading exactly `gap` after the last still extends the session, so close one millisecond later
    nextWake(s, out) {
      if (s.current) out.wakeAt(s.current.last + gap + spec.latenessMs + 1);
    },
  };
}
