/** Shared helpers for the rules tests: rule text to an engine on a virtual clock. */
import { VirtualClock } from '../gateway/core/clock.js';
import type { PipelineRecord } from '../gateway/core/contracts.js';
import type { AlertRecord, ReadingRecord } from '../gateway/core/records.js';
import { formatProblem } from '../gateway/core/yaml-source.js';
import { loadRuleSources } from '../rules/load.js';
import { createRuleEngine, type RuleEngine, type RuleEngineError } from '../rules/engine.js';
import type { CompiledRule, RuleLimits } from '../rules/types.js';
import type { CliStreams } from '../rules/cli-test.js';

export const T0 = Date.parse('2024-01-01T00:00:00Z');

export function rulesFrom(yamlText: string, file = 'test.yaml'): CompiledRule[] {
  const r = loadRuleSources([{ file, text: yamlText }]);
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
  return [...r.rules];
}

export interface Harness {
  readonly clock: VirtualClock;
  readonly engine: RuleEngine;
  readonly records: PipelineRecord[];
  readonly errors: RuleEngineError[];
  /** Alerts so far as `+<ms> <state> <key>` lines, easy to compare. */
  alerts(): string[];
  alertRecords(): AlertRecord[];
  derived(): ReadingRecord[];
  /** Advances the clock to T0 + at (never back) and processes a reading with event time T0 + (eventAt ?? at). */
  send(at: number, device: string, metric: string, value: number | boolean | string, opts?: { eventAt?: number; tags?: Record<string, string> }): void;
  advance(to: number): void;
}

export function harness(rules: CompiledRule[] | string, options: { limits?: Partial<RuleLimits>; cadenceOf?: (d: string, m: string) => number | undefined } = {}): Harness {
  const clock = new VirtualClock(T0);
  const records: PipelineRecord[] = [];
  const errors: RuleEngineError[] = [];
  let n = 0;
  const engine = createRuleEngine({
    rules: typeof rules === 'string' ? rulesFrom(rules) : rules,
    clock,
    emit: (r) => records.push(r),
    onError: (e) => errors.push(e),
    nextId: () => `id-${++n}`,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.cadenceOf ? { cadenceOf: options.cadenceOf } : {}),
  });
  const alertRecords = () => records.filter((r): r is AlertRecord => r.kind === 'alert');
  return {
    clock,
    engine,
    records,
    errors,
    alertRecords,
    alerts: () => alertRecords().map((a) => `+${a.ts - T0} ${a.state} ${a.key}`),
    derived: () => records.filter((r): r is ReadingRecord => r.kind === 'reading'),
    send(at, device, metric, value, opts = {}) {
      clock.advanceTo(T0 + at);
      engine.process(reading(device, metric, value, T0 + (opts.eventAt ?? at), opts.tags ?? {}));
    },
    advance(to) {
      clock.advanceTo(T0 + to);
    },
  };
}

let seq = 0;
export function reading(device: string, metric: string, value: number | boolean | string, ts: number, tags: Record<string, string> = {}): ReadingRecord {
  return { v: 1, kind: 'reading', id: `r-${++seq}`, device, metric, value, ts, receivedAt: ts, source: 'test', tags };
}

export interface Captured {
  readonly streams: CliStreams;
  stdout(): string;
  stderr(): string;
}

export function capture(): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return {
    streams: { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}
