/**
 * rate: rate of change, per second or per minute, between consecutive
 * readings of a key or against the oldest reading within `over` (so "rose by
 * more than 3 within 5 minutes" is `over: 5m` and `when: change > 3`). The
 * derived numbers then go through the same raise/clear machine as threshold.
 */
import { Type, type Static } from '@sinclair/typebox';
import { COMMON_RULE_PROPS, Duration, Expression, MetricSelector } from '../schema-common.js';
import { READING_VARIABLES, holdsBound, test, type CompiledExpression } from '../expr.js';
import type { OperatorOutput, ReadingValue, RuleKindDefinition, RuleOperator } from '../types.js';
import { holdNextWake, holdUpdate, holdWake, judgesClear, IDLE, type HoldSpec, type HoldState, type HoldTransition } from './hold.js';
import { numeric } from './shared.js';

export const RateRule = Type.Object(
  {
    kind: Type.Literal('rate'),
    ...COMMON_RULE_PROPS,
    metric: MetricSelector,
    unit: Type.Union([Type.Literal('second'), Type.Literal('minute')], { default: 'second', description: '`rate` is per second or per minute.' }),
    over: Type.Optional(Duration('Compare with the oldest reading within this span instead of the previous reading.')),
    when: Expression('Raise when this holds; sees `rate`, `change`, `previous`, `elapsed` (ms) besides the reading.'),
    clear: Type.Optional(Expression('Clear only when this holds (hysteresis).')),
    for: Type.Optional(Duration('`when` must hold this long before raising.')),
    clearFor: Type.Optional(Duration('The clear condition must hold this long before clearing.')),
  },
  { additionalProperties: false, description: 'Raise on fast change.' },
);
export type RateRule = Static<typeof RateRule>;

const RATE_VARIABLES = { ...READING_VARIABLES, rate: 'double', change: 'double', previous: 'double', elapsed: 'double' } as const;

interface RateSpec extends HoldSpec {
  readonly when: CompiledExpression;
  readonly clear: CompiledExpression | undefined;
  readonly unitMs: number;
  readonly overMs: number | undefined;
  readonly maxPoints: number;
}

interface RateState extends HoldState {
  /**
   * The points compared, oldest first, flat: [ts0, v0, ts1, v1, ...]. One
   * array of doubles, stored unboxed and contiguous, so a reading touches one
   * or two cache lines of it rather than two arrays and their elements.
   */
  pts: number[];
  /** The last judged context, for evidence and messages; kept up to date only while not idle. */
  last: RateContext | null;
}

interface RateContext {
  value: ReadingValue;
  metric: string;
  device: string;
  tags: Readonly<Record<string, string>>;
  ts: number;
  rate: number;
  change: number;
  previous: number;
  elapsed: number;
}

export const rateKind: RuleKindDefinition<RateRule> = {
  schema: RateRule,
  compile(def, c) {
    const when = c.condition(['when'], def.when, RATE_VARIABLES);
    const clear = def.clear === undefined ? undefined : c.condition(['clear'], def.clear, RATE_VARIABLES);
    if (!when || (def.clear !== undefined && !clear)) return undefined;
    const base = {
      when,
      clear,
      unitMs: def.unit === 'minute' ? 60_000 : 1000,
      overMs: def.over === undefined ? undefined : c.duration(def.over),
      forMs: def.for === undefined ? 0 : c.duration(def.for),
      clearForMs: def.clearFor === undefined ? 0 : c.duration(def.clearFor),
    };
    return {
      knownPlaceholder: (p) => p.length === 1 && ['rate', 'change', 'previous', 'elapsed'].includes(p[0]!),
      defaultMessage: `{rule}: {metric} changes at {rate:2}/${def.unit} on {key}`,
      create: (env) => rateOperator({ ...base, maxPoints: env.limits.maxBufferPerKey }),
    };
  },
};

function rateOperator(spec: RateSpec): RuleOperator<RateState> {
  const scratch = newContext();
  const whenRate = spec.when.bound?.variable === 'rate' ? spec.when.bound : undefined;
  const fire = (s: RateState, t: NonNullable<HoldTransition>, out: OperatorOutput): void => {
    const c = s.last!;
    const evidence = [{ from: { ts: c.ts - c.elapsed, value: c.previous }, to: { ts: c.ts, value: c.value }, rate: c.rate, change: c.change }];
    const vars = { ...c };
    if (t.kind === 'raise') out.raise(t.at, c.value, evidence, vars);
    else out.clear(t.at, c.value, evidence, vars);
  };
  return {
    init: () => ({ phase: IDLE, since: 0, pts: [], last: null }),
    onReading(s, r, out) {
      const time = out.time;
      const v = numeric(r.value);
      if (v === undefined) return out.ignored();
      const pts = s.pts;
      const n = pts.length;
      if (n > 0 && time <= pts[n - 2]!) return time < pts[n - 2]! ? out.late() : out.ignored();
      if (spec.overMs === undefined && n === 4) {
        // the usual case, previous reading only: shift in place
        pts[0] = pts[2]!;
        pts[1] = pts[3]!;
        pts[2] = time;
        pts[3] = v;
      } else {
        pts.push(time, v);
        if (spec.overMs !== undefined) {
          let drop = 0;
          while (drop < pts.length - 2 && (pts[drop]! < time - spec.overMs || pts.length - drop > 2 * spec.maxPoints)) drop += 2;
          if (drop > 0) pts.splice(0, drop);
        }
      }
      if (pts.length < 4) return;
      const t0 = pts[0]!;
      const v0 = pts[1]!;
      const elapsed = time - t0;
      const change = v - v0;
      const rate = change / (elapsed / spec.unitMs);
      // the usual verdict, an idle key whose `rate > k` does not hold, needs no context at all
      if (s.phase === IDLE && whenRate !== undefined && !holdsBound(whenRate, rate)) return;
      // judged on a scratch object; copied into the state only when the verdict counts
      const ctx = scratch;
      ctx.value = r.value;
      ctx.metric = r.metric;
      ctx.device = r.device;
      ctx.tags = r.tags;
      ctx.ts = time;
      ctx.rate = rate;
      ctx.change = change;
      ctx.previous = v0;
      ctx.elapsed = elapsed;
      let holds: boolean | undefined;
      if (!judgesClear(s)) holds = test(spec.when, ctx, out);
      else if (spec.clear) holds = test(spec.clear, ctx, out);
      else {
        const w = test(spec.when, ctx, out);
        holds = w === undefined ? undefined : !w;
      }
      if (holds === undefined) return;
      const before = s.phase;
      const t = holdUpdate(s, spec, time, holds);
      // an idle key that stays idle needs no context: only a phase other than idle (or leaving one) may fire later
      if (before !== IDLE || s.phase !== IDLE) copyContext((s.last ??= newContext()), ctx);
      if (t) fire(s, t, out);
    },
    onWake(s, out) {
      const now = out.time;
      const t = holdWake(s, spec, now);
      if (t) fire(s, t, out);
    },
    nextWake: (s, out) => holdNextWake(s, spec, out),
  };
}

/** The 0.5s make the number fields doubles from the start, so V8 updates them in place instead of boxing each write. */
function newContext(): RateContext {
  return { value: 0, metric: '', device: '', tags: {}, ts: 0.5, rate: 0.5, change: 0.5, previous: 0.5, elapsed: 0.5 };
}

function copyContext(to: RateContext, from: RateContext): void {
  to.value = from.value;
  // usually equal: not storing a reading's fresh strings into old state spares the GC
  if (to.metric !== from.metric) to.metric = from.metric;
  if (to.device !== from.device) to.device = from.device;
  if (to.tags !== from.tags) to.tags = from.tags;
  to.ts = from.ts;
  to.rate = from.rate;
  to.change = from.change;
  to.previous = from.previous;
  to.elapsed = from.elapsed;
}
