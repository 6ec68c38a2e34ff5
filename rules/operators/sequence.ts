/**
 * sequence (CEP): ordered steps per key within a duration, e.g. "door opens,
 * then the temperature passes 8 °C, within 10 minutes". Later steps may refer
 * to earlier ones by name (`warm.value > open.value + 2.0`).
 *
 *  - within: the last step must come at most `within` after the first
 *    (inclusive: at exactly `within` it matches, one millisecond later not);
 *  - contiguity: `relaxed` skips readings that match nothing; `strict` drops a
 *    partial match as soon as a reading of the rule is not its next step;
 *  - `not: true` steps are guards: a matching reading between the steps around
 *    it drops the partial match. A trailing guard means "and then nothing like
 *    this until `within` has passed" (door opened and not closed in 5 min);
 *  - alertOn `timeout` alerts when a started match does not complete in time.
 *
 * Up to limits.maxPartialMatches partial matches run per key. An alert clears
 * on `clear` (a condition on a later reading), after `clearAfter`, or, with
 * neither, at once (a momentary raise and clear pair).
 */
import { Type, type Static } from '@sinclair/typebox';
import { COMMON_RULE_PROPS, Duration, Expression, MetricSelector } from '../schema-common.js';
import { isBefore, NEVER_HI, setTime, type SmallTime } from '../small-time.js';
import { READING_VARIABLES, test, testReading, type CompiledExpression, type VariableSet } from '../expr.js';
import type { ReadingRecord } from '../../gateway/core/records.js';
import type { OperatorOutput, ReadingValue, RuleKindDefinition, RuleOperator } from '../types.js';
import { isoTime } from '../template.js';

const Step = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z_][a-z0-9_]*$', description: 'How later steps, `clear` and messages refer to this step.' }),
    metric: Type.Optional(MetricSelector),
    when: Expression('The reading that makes this step, e.g. `value == "open"`.'),
    not: Type.Boolean({ default: false, description: 'A guard: this must not happen between the steps around it.' }),
  },
  { additionalProperties: false },
);

export const SequenceRule = Type.Object(
  {
    kind: Type.Literal('sequence'),
    ...COMMON_RULE_PROPS,
    metric: Type.Optional(MetricSelector),
    steps: Type.Array(Step, { minItems: 1 }),
    within: Duration('The whole sequence must happen within this long.'),
    contiguity: Type.Union([Type.Literal('relaxed'), Type.Literal('strict')], { default: 'relaxed' }),
    alertOn: Type.Union([Type.Literal('match'), Type.Literal('timeout')], {
      default: 'match',
      description: '`timeout`: alert when a started sequence does not complete within `within`.',
    }),
    clear: Type.Optional(Expression('Clear when a later reading of the key satisfies this; sees the matched steps.')),
    clearAfter: Type.Optional(Duration('Clear this long after raising.')),
  },
  { additionalProperties: false, description: 'Raise on an ordered pattern of readings.' },
);
export type SequenceRule = Static<typeof SequenceRule>;

const RESERVED = new Set(['value', 'metric', 'device', 'tags', 'ts', 'key', 'rule', 'severity', 'labels', 'within']);

interface CompiledStep {
  readonly name: string;
  readonly metrics: ReadonlySet<string> | null;
  readonly when: CompiledExpression;
  readonly guards: readonly CompiledStep[];
}

interface SequenceSpec {
  readonly steps: readonly CompiledStep[];
  readonly trailing: readonly CompiledStep[];
  readonly withinMs: number;
  readonly strict: boolean;
  readonly alertOnTimeout: boolean;
  readonly clear: CompiledExpression | undefined;
  readonly clearAfterMs: number | undefined;
  readonly maxPartials: number;
}

interface StepRecord {
  readonly ts: number;
  readonly value: ReadingValue;
  readonly device: string;
  readonly metric: string;
  readonly tags: Readonly<Record<string, string>>;
}

interface PartialMatch {
  readonly start: number;
  /** Index of the next positive step. */
  next: number;
  /** Every positive step matched; waiting out the trailing guards. */
  done: boolean;
  readonly steps: Record<string, StepRecord>;
}

interface SequenceState extends SmallTime {
  // hi, lo: the time of the last reading
  /** Partial matches in progress; null when none, so the common check reads no second object. */
  partials: PartialMatch[] | null;
  firing: boolean;
  clearAt: number | null;
  matched: Record<string, StepRecord> | null;
}

export const sequenceKind: RuleKindDefinition<SequenceRule> = {
  schema: SequenceRule,
  compile(def, c) {
    let ok = true;
    const problem = (path: (string | number)[], message: string) => {
      ok = false;
      c.problem(path, message);
    };
    const names = new Set<string>();
    const earlier: Record<string, VariableSet[string]> = {};
    const positives: { name: string; metrics: ReadonlySet<string> | null; when: CompiledExpression; guards: CompiledStep[] }[] = [];
    let guards: CompiledStep[] = [];
    const metrics = new Set<string>();
    def.steps.forEach((step, i) => {
      if (names.has(step.name)) problem(['steps', i, 'name'], `step name ${step.name} is used twice`);
      if (RESERVED.has(step.name)) problem(['steps', i, 'name'], `step name ${step.name} is reserved`);
      names.add(step.name);
      const selector = step.metric ?? def.metric;
      if (selector === undefined) problem(['steps', i], 'this step needs a metric (on the step or on the rule)');
      const list = selector === undefined ? [] : typeof selector === 'string' ? [selector] : selector;
      for (const m of list) metrics.add(m);
      const when = c.condition(['steps', i, 'when'], step.when, { ...READING_VARIABLES, ...earlier });
      if (!when) ok = false;
      const compiled = { name: step.name, metrics: list.includes('*') ? null : new Set(list), when: when!, guards: [] as CompiledStep[] };
      if (step.not) {
        if (i === 0) problem(['steps', i, 'not'], 'the first step cannot be a `not` step');
        guards.push(compiled);
      } else {
        compiled.guards = guards;
        guards = [];
        positives.push(compiled);
        earlier[step.name] = 'map';
      }
    });
    const trailing = guards;
    if (trailing.length > 0 && def.alertOn === 'timeout') problem(['alertOn'], 'a trailing `not` step already alerts when time runs out; use alertOn: match');
    if (metrics.size > 1 && c.key.by === 'device+metric') problem(['per'], 'steps read several metrics, so the key cannot include the metric; use per: device');
    const clear = def.clear === undefined ? undefined : c.condition(['clear'], def.clear, { ...READING_VARIABLES, ...earlier });
    if (def.clear !== undefined && !clear) ok = false;
    if (!ok) return undefined;
    const base = {
      steps: positives,
      trailing,
      withinMs: c.duration(def.within),
      strict: def.contiguity === 'strict',
      alertOnTimeout: def.alertOn === 'timeout',
      clear,
      clearAfterMs: def.clearAfter === undefined ? undefined : c.duration(def.clearAfter),
    };
    const stepNames = new Set(positives.map((p) => p.name));
    return {
      metrics: metrics.has('*') ? ['*'] : [...metrics],
      knownPlaceholder: (p) =>
        (p.length === 1 && p[0] === 'within') ||
        (p.length === 2 && stepNames.has(p[0]!) && ['ts', 'value', 'device', 'metric'].includes(p[1]!)),
      defaultMessage: `{rule}: sequence ${positives.map((p) => p.name).join(' → ')} on {key}`,
      create: (env) => sequenceOperator({ ...base, maxPartials: env.limits.maxPartialMatches }),
    };
  },
};

/** Steps as message variables: `{open.ts}` reads as a time. */
function stepVars(steps: Record<string, StepRecord>): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const [name, step] of Object.entries(steps)) vars[name] = { ...step, ts: isoTime(step.ts) };
  return vars;
}

/** The list without `p`; null when nothing is left. */
function without(list: readonly PartialMatch[], p: PartialMatch): PartialMatch[] | null {
  const rest = list.filter((x) => x !== p);
  return rest.length > 0 ? rest : null;
}

function recordOf(r: ReadingRecord): StepRecord {
  return { ts: r.ts, value: r.value, device: r.device, metric: r.metric, tags: r.tags };
}

function sequenceOperator(spec: SequenceSpec): RuleOperator<SequenceState> {
  const last = spec.steps.length - 1;
  const matches = (step: CompiledStep, ctx: object, metric: string, out: OperatorOutput): boolean =>
    (step.metrics === null || step.metrics.has(metric)) && testReading(step.when, ctx, out) === true;
  const bind = (ctx: Record<string, unknown>, steps: Record<string, StepRecord>): Record<string, unknown> => {
    for (const p of spec.steps) ctx[p.name] = steps[p.name];
    return ctx;
  };
  const evidence = (steps: Record<string, StepRecord>): unknown[] =>
    spec.steps.filter((p) => steps[p.name]).map((p) => ({ step: p.name, ...steps[p.name]! }));

  const raise = (s: SequenceState, at: number, steps: Record<string, StepRecord>, out: OperatorOutput, timedOut: boolean): void => {
    const lastStep = [...spec.steps].reverse().find((p) => steps[p.name]);
    const value = lastStep ? steps[lastStep.name]!.value : undefined;
    const ev = evidence(steps);
    if (timedOut) ev.push({ timedOut: true, within: spec.withinMs });
    const vars = { ...stepVars(steps), within: `${spec.withinMs / 1000}s`, value };
    out.raise(at, value, ev, vars);
    s.matched = steps;
    if (spec.clear === undefined && spec.clearAfterMs === undefined) {
      out.clear(at, value, ev, vars); // momentary
      return;
    }
    s.firing = true;
    s.clearAt = spec.clearAfterMs === undefined ? null : at + spec.clearAfterMs;
  };
  const clear = (s: SequenceState, at: number, value: ReadingValue | undefined, ev: unknown[], out: OperatorOutput): void => {
    s.firing = false;
    s.clearAt = null;
    out.clear(at, value, ev, { ...stepVars(s.matched ?? {}), within: `${spec.withinMs / 1000}s`, value });
  };
  /** Partial matches whose time is up: trailing guards passed (a match) or a timeout. */
  const expire = (s: SequenceState, now: number, out: OperatorOutput): void => {
    if (s.partials === null) return; // most readings: nothing in progress, nothing to allocate
    const keep: PartialMatch[] = [];
    for (const p of s.partials) {
      if (p.start + spec.withinMs >= now) keep.push(p);
      else if (p.done) raise(s, p.start + spec.withinMs, p.steps, out, false);
      else if (spec.alertOnTimeout) raise(s, p.start + spec.withinMs, p.steps, out, true);
    }
    s.partials = keep.length > 0 ? keep : null;
  };
  const complete = (s: SequenceState, p: PartialMatch, at: number, out: OperatorOutput): boolean => {
    if (spec.trailing.length > 0) {
      p.done = true;
      return false;
    }
    s.partials = null;
    if (!spec.alertOnTimeout) raise(s, at, p.steps, out, false);
    return true;
  };

  const start = (s: SequenceState, r: ReadingRecord, time: number, out: OperatorOutput): void => {
    const p: PartialMatch = { start: time, next: 1, done: false, steps: { [spec.steps[0]!.name]: recordOf(r) } };
    (s.partials ??= []).push(p);
    if (last === 0) complete(s, p, time, out);
  };

  return {
    init: () => ({ hi: NEVER_HI, lo: 0, partials: null, firing: false, clearAt: null, matched: null }),
    onReading(s, r, out) {
      const time = out.time;
      if (isBefore(time, s)) return out.late();
      setTime(s, time);
      expire(s, time, out);
      if (!s.firing && s.partials === null) {
        // the common case: nothing in progress, so the reading itself is the context of the first step
        const first = spec.steps[0]!;
        if (!matches(first, r, r.metric, out)) return;
        start(s, r, time, out);
        return;
      }
      const record = recordOf(r);
      const ctx: Record<string, unknown> = { value: r.value, metric: r.metric, device: r.device, tags: r.tags, ts: r.ts };
      if (s.firing && spec.clear && test(spec.clear, bind(ctx, s.matched ?? {}), out) === true) {
        clear(s, time, r.value, [{ step: 'clear', ...record }], out);
      }
      let completed = false;
      for (const p of s.partials !== null ? [...s.partials] : []) {
        if (s.partials?.includes(p) !== true) break; // a completion reset the list
        bind(ctx, p.steps);
        const guards = p.done ? spec.trailing : spec.steps[p.next]!.guards;
        if (guards.some((g) => matches(g, ctx, r.metric, out))) {
          s.partials = without(s.partials, p);
          continue;
        }
        if (p.done) continue;
        const step = spec.steps[p.next]!;
        if (matches(step, ctx, r.metric, out)) {
          p.steps[step.name] = record;
          if (p.next++ === last && complete(s, p, time, out)) {
            completed = true;
            break;
          }
        } else if (spec.strict) {
          s.partials = without(s.partials, p);
        }
      }
      if (completed || (s.partials?.length ?? 0) >= spec.maxPartials) return;
      if (matches(spec.steps[0]!, bind(ctx, {}), r.metric, out)) start(s, r, time, out);
    },
    onWake(s, out) {
      const now = out.time;
      if (s.firing && s.clearAt !== null && s.clearAt <= now) clear(s, s.clearAt, undefined, [{ clearAfter: true }], out);
      expire(s, now, out);
    },
    // nothing in progress and a reading that does not start the first step: only the time moves
    quiet: {
      isQuiet: (s) => !s.firing && s.partials === null,
      keepsQuiet: (r, out) => !matches(spec.steps[0]!, r, r.metric, out),
    },
    nextWake(s, out) {
      let due = s.firing && s.clearAt !== null ? s.clearAt : Infinity;
      // one millisecond past `within`: at exactly `within` a step still matches
      if (s.partials !== null) for (const p of s.partials) due = Math.min(due, p.start + spec.withinMs + 1);
      if (due !== Infinity) out.wakeAt(due);
    },
  };
}
