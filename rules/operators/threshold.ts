/**
 * threshold: `when` with optional hysteresis (`clear`) and debounce on both
 * edges (`for`, `clearFor`). The state machine itself is in hold.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { ReadingRecord } from '../../gateway/core/records.js';
import { COMMON_RULE_PROPS, Duration, Expression, MetricSelector } from '../schema-common.js';
import { READING_VARIABLES, testReading, type CompiledExpression } from '../expr.js';
import type { OperatorOutput, RuleKindDefinition, RuleOperator } from '../types.js';
import { holdNextWake, holdUpdate, holdWake, judgesClear, IDLE, FIRING, type HoldSpec, type HoldState, type HoldTransition } from './hold.js';
import { evidenceOf, type ReadingEvidence } from './shared.js';
import { isBefore, NEVER_HI, setTime, type SmallTime } from '../small-time.js';

export const ThresholdRule = Type.Object(
  {
    kind: Type.Literal('threshold'),
    ...COMMON_RULE_PROPS,
    metric: MetricSelector,
    when: Expression('Raise when this holds, e.g. `value > 80`.'),
    clear: Type.Optional(Expression('Clear only when this holds (hysteresis), e.g. `value < 75`. Default: `when` no longer holds.')),
    for: Type.Optional(Duration('`when` must hold this long before the alert is raised.')),
    clearFor: Type.Optional(Duration('The clear condition must hold this long before the alert clears.')),
  },
  { additionalProperties: false, description: 'Raise while a condition on each reading holds.' },
);
export type ThresholdRule = Static<typeof ThresholdRule>;

/** Flat on purpose (hold fields inline): one object per key is one cache line fewer per reading. */
interface ThresholdState extends HoldState, SmallTime {
  // hi, lo: the time of the last reading judged
  /** The reading that started the current pending/firing or clearing phase. */
  start: ReadingRecord | null;
  last: ReadingRecord | null;
}

interface ThresholdSpec extends HoldSpec {
  readonly when: CompiledExpression;
  readonly clear: CompiledExpression | undefined;
}

export const thresholdKind: RuleKindDefinition<ThresholdRule> = {
  schema: ThresholdRule,
  compile(def, c) {
    const when = c.condition(['when'], def.when, READING_VARIABLES);
    const clear = def.clear === undefined ? undefined : c.condition(['clear'], def.clear, READING_VARIABLES);
    if (!when || (def.clear !== undefined && !clear)) return undefined;
    const spec: ThresholdSpec = {
      when,
      clear,
      forMs: def.for === undefined ? 0 : c.duration(def.for),
      clearForMs: def.clearFor === undefined ? 0 : c.duration(def.clearFor),
    };
    return {
      knownPlaceholder: (p) => p.length === 1 && p[0] === 'since',
      defaultMessage: '{rule}: {metric} is {value} on {key}',
      create: () => thresholdOperator(spec),
    };
  },
};

/** Back to idle: the evidence has gone out with the alert, and the readings need not outlive it. */
function forget(s: ThresholdState): void {
  if (s.start !== null) s.start = null;
  if (s.last !== null) s.last = null;
}

export function thresholdOperator(spec: ThresholdSpec): RuleOperator<ThresholdState> {
  const judge = (s: ThresholdState, r: ReadingRecord, out: OperatorOutput): boolean | undefined => {
    if (!judgesClear(s)) return testReading(spec.when, r, out);
    if (spec.clear) return testReading(spec.clear, r, out);
    const w = testReading(spec.when, r, out);
    return w === undefined ? undefined : !w;
  };
  const fire = (s: ThresholdState, t: NonNullable<HoldTransition>, out: OperatorOutput): void => {
    const r = s.last!;
    const evidence: ReadingEvidence[] = s.start && s.start !== r ? [evidenceOf(s.start), evidenceOf(r)] : [evidenceOf(r)];
    // readingVars(r) plus `since`, built in one literal (same keys, same order): this runs for every alert;
    // `since` stays epoch ms, written out as ISO time only if the message shows it (alertRecord)
    const vars = { device: r.device, metric: r.metric, value: r.value, ts: r.ts, tags: r.tags, since: s.start?.ts ?? t.at };
    if (t.kind === 'raise') out.raise(t.at, r.value, evidence, vars);
    else out.clear(t.at, r.value, evidence, vars);
  };
  return {
    // a literal, not a spread of newHold(): spread-built state objects measured 7x slower to access
    init: () => ({ phase: IDLE, since: 0, hi: NEVER_HI, lo: 0, start: null, last: null }),
    onReading(s, r, out) {
      const time = out.time;
      if (isBefore(time, s)) return out.late(); // a stale reading must not undo a newer decision
      const holds = judge(s, r, out);
      if (holds === undefined) return;
      setTime(s, time);
      const before = s.phase;
      // the common case, idle and staying idle: nothing to remember, so no reading is kept alive by old state
      if (before === IDLE && !holds) return;
      s.last = r;
      const t = holdUpdate(s, spec, time, holds);
      const after = s.phase;
      // remember the reading that opened the phase: the evidence starts there
      if ((before === IDLE && after !== IDLE) || (before === FIRING && after !== FIRING)) s.start = r;
      if (t) fire(s, t, out);
      if (s.phase === IDLE) forget(s);
    },
    onWake(s, out) {
      const now = out.time;
      const t = holdWake(s, spec, now);
      if (t) fire(s, t, out);
      if (s.phase === IDLE) forget(s);
    },
    nextWake: (s, out) => holdNextWake(s, spec, out),
    // an idle key judging `when` false only moves its time; an idle key wants no wake-up (a debounce
    // queues one only while pending or clearing), and holdWake reads the phase, never the time
    quiet: {
      isQuiet: (s) => s.phase === IDLE,
      keepsQuiet: (r, out) => {
        const holds = testReading(spec.when, r, out);
        return holds === undefined ? undefined : !holds;
      },
    },
  };
}
