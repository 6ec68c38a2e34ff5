/**
 * rate: rate of change, per second or per minute, between consecutive
 * readings of a key or against the oldest reading within `over` (so "rose by
 * more than 3 within 5 minutes" is `over: 5m` and `when: change > 3`). The
 * derived numbers then go through the same raise/clear machine as threshold.
 */
import { Type, type Static } from '@sinclair/typebox';
import { COMMON_RULE_PROPS, Duration, Expression, MetricSelector } from '../schema-common.js';
import { READING_VARIABLES, test, type CompiledExpression } from '../expr.js';
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
  ts: number[];
  vs: number[];
  /** The last judged context, for evidence and messages. */
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
  const fire = (s: RateState, t: NonNullable<HoldTransition>, out: OperatorOutput): void => {
    const c = s.last!;
    const evidence = [{ from: { ts: c.ts - c.elapsed, value: c.previous }, to: { ts: c.ts, value: c.value }, rate: c.rate, change: c.change }];
    const vars = { ...c };
    if (t.kind === 'raise') out.raise(t.at, c.value, evidence, vars);
    else out.clear(t.at, c.value, evidence, vars);
  };
  return {
    init: () => ({ phase: IDLE, since: 0, ts: [], vs: [], last: null }),
    onReading(s, r, time, out) {
      const v = numeric(r.value);
      if (v === undefined) return out.ignored();
      const n = s.ts.length;
      if (n > 0 && time <= s.ts[n - 1]!) return time < s.ts[n - 1]! ? out.late() : out.ignored();
      s.ts.push(time);
      s.vs.push(v);
      if (spec.overMs === undefined) {
        if (s.ts.length > 2) {
          s.ts.shift();
          s.vs.shift();
        }
      } else {
        while (s.ts[0]! < time - spec.overMs || s.ts.length > spec.maxPoints) {
          s.ts.shift();
          s.vs.shift();
        }
      }
      if (s.ts.length < 2) return;
      const elapsed = time - s.ts[0]!;
      const change = v - s.vs[0]!;
      const ctx: RateContext = {
        value: r.value, metric: r.metric, device: r.device, tags: r.tags, ts: time,
        rate: change / (elapsed / spec.unitMs), change, previous: s.vs[0]!, elapsed,
      };
      let holds: boolean | undefined;
      if (!judgesClear(s)) holds = test(spec.when, ctx, out);
      else if (spec.clear) holds = test(spec.clear, ctx, out);
      else {
        const w = test(spec.when, ctx, out);
        holds = w === undefined ? undefined : !w;
      }
      if (holds === undefined) return;
      s.last = ctx;
      const t = holdUpdate(s, spec, time, holds);
      if (t) fire(s, t, out);
    },
    onWake(s, now, out) {
      const t = holdWake(s, spec, now);
      if (t) fire(s, t, out);
    },
    nextWake: (s) => holdNextWake(s, spec),
  };
}
