/**
 * Per-rule metrics, read from the engine's own counters at scrape time so
 * the hot path pays nothing for them.
 */
import { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../metrics/metrics.js';
import type { RuleEngineStats } from '../../rules/index.js';

type StatsSource = () => RuleEngineStats;
const sources = new WeakMap<Metrics, { current: StatsSource | undefined }>();

const COUNTERS = [
  ['weir_rule_evaluations_total', 'Readings evaluated, per rule.', 'evaluations'],
  ['weir_rule_raises_total', 'Alerts raised, per rule.', 'raises'],
  ['weir_rule_clears_total', 'Alerts cleared, per rule.', 'clears'],
  ['weir_rule_errors_total', 'Evaluation errors, per rule.', 'errors'],
  ['weir_rule_late_total', 'Readings dropped as too late, per rule.', 'late'],
] as const;

export function watchRuleMetrics(metrics: Metrics, stats: StatsSource): () => void {
  let slot = sources.get(metrics);
  if (!slot) {
    slot = { current: undefined };
    sources.set(metrics, slot);
    register(metrics, slot);
  }
  slot.current = stats;
  return () => {
    if (slot.current === stats) slot.current = undefined;
  };
}

function register(metrics: Metrics, slot: { current: StatsSource | undefined }): void {
  const registers = [metrics.registry];
  for (const [name, help, field] of COUNTERS) {
    new Counter({
      name,
      help,
      labelNames: ['rule'],
      registers,
      collect() {
        this.reset();
        for (const r of slot.current?.().rules ?? []) this.inc({ rule: r.rule }, r[field]);
      },
    });
  }
  new Gauge({
    name: 'weir_rule_state_keys',
    help: 'Keys with state, per rule.',
    labelNames: ['rule'],
    registers,
    collect() {
      this.reset();
      for (const r of slot.current?.().rules ?? []) this.set({ rule: r.rule }, r.stateKeys);
    },
  });
  new Counter({
    name: 'weir_rule_evictions_total',
    help: 'Key states evicted, per rule and reason (capacity, idle).',
    labelNames: ['rule', 'reason'],
    registers,
    collect() {
      this.reset();
      for (const r of slot.current?.().rules ?? []) {
        this.inc({ rule: r.rule, reason: 'capacity' }, r.evictions.capacity);
        this.inc({ rule: r.rule, reason: 'idle' }, r.evictions.idle);
      }
    },
  });
  new Gauge({
    name: 'weir_rule_eval_seconds_mean',
    help: 'Mean evaluation time of one reading through a rule (sampled).',
    labelNames: ['rule'],
    registers,
    collect() {
      this.reset();
      for (const r of slot.current?.().rules ?? []) this.set({ rule: r.rule }, r.evalMeanUs / 1e6);
    },
  });
}
