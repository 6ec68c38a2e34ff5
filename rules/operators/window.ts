/**
 * window: aggregates over tumbling, hopping or sliding time windows, session
 * windows (closed by a gap) or count windows; a `having` condition raises and
 * clears, and `emit` turns each window into a derived reading (e.g. 1-minute
 * averages forwarded instead of raw data). The window types live beside this
 * file; this one holds the schema, the checks and what a closed window emits.
 */
import { Type, type Static } from '@sinclair/typebox';
import { COMMON_RULE_PROPS, Duration, Expression, MetricSelector } from '../schema-common.js';
import { test, type CompiledExpression, type VariableSet } from '../expr.js';
import type { OperatorOutput, RuleKindDefinition, RuleLimits, RuleOperator } from '../types.js';
import { AGGREGATE_PATTERN } from '../aggregates.js';
import { isoTime } from '../template.js';
import { timeWindowOperator } from './window-time.js';
import { sessionWindowOperator } from './window-session.js';
import { countWindowOperator } from './window-count.js';
import { slidingWindowOperator } from './window-sliding.js';

export const WindowRule = Type.Object(
  {
    kind: Type.Literal('window'),
    ...COMMON_RULE_PROPS,
    metric: MetricSelector,
    window: Type.Object(
      {
        type: Type.Union([Type.Literal('tumbling'), Type.Literal('hopping'), Type.Literal('sliding'), Type.Literal('session'), Type.Literal('count')]),
        size: Type.Optional(Type.Union([Duration('Window length (time windows).'), Type.Integer({ minimum: 1, description: 'Readings per window (count windows).' })])),
        hop: Type.Optional(Duration('Hopping windows: how often a window starts.')),
        gap: Type.Optional(Duration('Session windows: silence that ends a session.')),
      },
      { additionalProperties: false },
    ),
    aggregates: Type.Array(Type.String({ pattern: AGGREGATE_PATTERN }), {
      minItems: 1,
      description: 'avg, min, max, sum, count, stddev, first, last, delta, median, p1..p99.',
    }),
    having: Type.Optional(Expression('Raise when this holds for a window, clear when it does not, e.g. `avg > 30`.')),
    emit: Type.Optional(
      Type.Object(
        {
          metric: Type.String({ minLength: 1, description: 'Metric name of the derived reading, e.g. `temp_avg_1m`.' }),
          value: Type.Optional(Type.String({ description: 'Which aggregate becomes the value; default the first.' })),
          unit: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, description: 'Aggregate readings over windows.' },
);
export type WindowRule = Static<typeof WindowRule>;

export interface WindowSpec {
  readonly aggregates: readonly string[];
  readonly having: CompiledExpression | undefined;
  readonly emit: { readonly metric: string; readonly value: string; readonly unit: string | undefined } | undefined;
  readonly latenessMs: number;
  readonly limits: RuleLimits;
  /** Scratch context for `having`, one per operator (evaluation is synchronous). */
  readonly havingContext: Record<string, unknown>;
  /** Keyed by device: a key's device never changes. */
  readonly deviceKeyed: boolean;
  /** The rule's only metric, when it reads one (not `*`): a key's metric never changes. */
  readonly onlyMetric: string | undefined;
}

export interface WindowInfo {
  readonly type: string;
  readonly start: number;
  readonly end: number;
}

export const windowKind: RuleKindDefinition<WindowRule> = {
  schema: WindowRule,
  compile(def, c) {
    const w = def.window;
    const timed = (field: 'size' | 'hop' | 'gap', text: string | number | undefined): number | undefined => {
      if (text === undefined) return undefined;
      if (typeof text === 'number') return void c.problem(['window', field], `a ${w.type} window's ${field} is a duration such as 1m`);
      return c.duration(text);
    };
    for (const field of ['size', 'hop', 'gap'] as const) {
      const allowed = field === 'size' ? w.type !== 'session' : field === 'hop' ? w.type === 'hopping' : w.type === 'session';
      if (w[field] !== undefined && !allowed) c.problem(['window', field], `${field} does not apply to ${w.type} windows`);
      if (w[field] === undefined && allowed) c.problem(['window'], `${w.type} windows need ${field}`);
    }
    const seen = new Set<string>();
    def.aggregates.forEach((a, i) => {
      if (seen.has(a)) c.problem(['aggregates', i], `aggregate ${a} is listed twice`);
      seen.add(a);
    });
    if (def.having === undefined && def.emit === undefined) c.problem([], 'a window rule needs `having` (to alert) or `emit` (to derive readings), or both');
    const emitValue = def.emit?.value ?? def.aggregates[0]!;
    if (def.emit && !seen.has(emitValue) && emitValue !== 'count') c.problem(['emit', 'value'], `emit.value ${emitValue} is not among the aggregates`);
    const vars: Record<string, VariableSet[string]> = { count: 'double', start: 'double', end: 'double', key: 'string', device: 'string', metric: 'string', tags: 'map' };
    for (const a of def.aggregates) vars[a] = 'double';
    const having = def.having === undefined ? undefined : c.condition(['having'], def.having, vars);
    if (def.having !== undefined && !having) return undefined;
    let size: number | undefined;
    let hop: number | undefined;
    let gap: number | undefined;
    if (w.type === 'count') {
      if (typeof w.size === 'string') c.problem(['window', 'size'], 'a count window\'s size is a number of readings');
      else size = w.size;
    } else {
      size = timed('size', w.size);
      hop = timed('hop', w.hop);
      gap = timed('gap', w.gap);
    }
    if (hop !== undefined && size !== undefined && (hop <= 0 || hop > size)) c.problem(['window', 'hop'], 'hop must be more than 0 and at most the window size');
    if ((size !== undefined && size <= 0) || (gap !== undefined && gap <= 0)) c.problem(['window'], 'window sizes and gaps must be more than 0');
    const latenessMs = c.duration(def.lateness);
    const emit = def.emit ? { metric: def.emit.metric, value: emitValue, unit: def.emit.unit } : undefined;
    const aggregates = def.aggregates;
    return {
      knownPlaceholder: (p) => p.length === 1 && (vars[p[0]!] !== undefined || p[0] === 'start' || p[0] === 'end'),
      defaultMessage: `{rule}: ${aggregates[0]} is {${aggregates[0]}} on {key}`,
      create(env): RuleOperator<unknown> {
        const spec: WindowSpec = {
          aggregates, having, emit, latenessMs, limits: env.limits, havingContext: havingContext(aggregates),
          deviceKeyed: c.key.by === 'device' || c.key.by === 'device+metric',
          onlyMetric: c.metrics.length === 1 && c.metrics[0] !== '*' ? c.metrics[0] : undefined,
        };
        switch (w.type) {
          case 'tumbling':
            return timeWindowOperator(spec, size!, size!);
          case 'hopping':
            return timeWindowOperator(spec, size!, hop!);
          case 'session':
            return sessionWindowOperator(spec, gap!);
          case 'count':
            return countWindowOperator(spec, size!);
          case 'sliding':
            return slidingWindowOperator(spec, size!);
        }
      },
    };
  },
};

export interface LastSeen {
  device: string;
  metric: string;
  tags: Readonly<Record<string, string>>;
}

/** Keeps a state's last device, metric and tags: one object per key, updated only where they differ (no object per reading, and a reading's fresh strings stay out of old state). */
export function rememberLast(s: { last: LastSeen | null }, r: { readonly device: string; readonly metric: string; readonly tags: Readonly<Record<string, string>> }): void {
  const last = s.last;
  if (last === null) {
    s.last = { device: r.device, metric: r.metric, tags: r.tags };
    return;
  }
  if (last.device !== r.device) last.device = r.device;
  if (last.metric !== r.metric) last.metric = r.metric;
  if (last.tags !== r.tags) last.tags = r.tags;
}

/**
 * What a finished window does: derive a reading and judge `having`. Returns
 * the verdict (undefined without `having` or when it failed to evaluate).
 */
export function closeWindow(
  spec: WindowSpec,
  out: OperatorOutput,
  stats: Record<string, number>,
  window: WindowInfo,
  last: LastSeen,
  alert: boolean,
): boolean | undefined {
  if (spec.emit) out.derive(spec.emit.metric, stats[spec.emit.value]!, window.end, spec.emit.unit);
  if (!spec.having) return undefined;
  const verdict = judgeHaving(spec, out, stats, window, last);
  if (verdict === undefined || !alert || (!verdict && !out.raised)) return verdict; // most windows clear nothing
  const evidence = [{ window, stats }];
  const vars = windowVars(stats, window, last);
  const value = stats[spec.aggregates[0]!];
  if (verdict) out.raise(window.end, value, evidence, vars);
  else out.clear(window.end, value, evidence, vars);
  return verdict;
}

export function judgeHaving(spec: WindowSpec, out: OperatorOutput, stats: Record<string, number>, window: WindowInfo, last: LastSeen): boolean | undefined {
  if (!spec.having) return undefined;
  // one context object per rule, refilled: a spread of the stats per window was most of a window's cost
  const ctx = spec.havingContext;
  ctx['count'] = stats['count'];
  for (const a of spec.aggregates) ctx[a] = stats[a];
  ctx['start'] = window.start;
  ctx['end'] = window.end;
  ctx['key'] = out.key;
  ctx['device'] = last.device;
  ctx['metric'] = last.metric;
  ctx['tags'] = last.tags;
  return test(spec.having, ctx, out);
}

function havingContext(aggregates: readonly string[]): Record<string, unknown> {
  const ctx: Record<string, unknown> = { count: 0 };
  for (const a of aggregates) ctx[a] = 0;
  return Object.assign(ctx, { start: 0, end: 0, key: '', device: '', metric: '', tags: {} });
}

export function windowVars(stats: Record<string, number>, window: WindowInfo, last: LastSeen): Record<string, unknown> {
  return { ...stats, start: isoTime(window.start), end: isoTime(window.end), device: last.device, metric: last.metric, tags: last.tags };
}
