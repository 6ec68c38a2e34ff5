/**
 * The rule engine alone: readings/s with 100 rules over 1,000 devices (a mix
 * of every kind), next to the floor the issue names (JSON.parse plus 10
 * hand-written checks per reading) measured in the same process, plus memory
 * per key and per rule. Seeded, so every run sees the same data.
 *
 *   npx tsc -p tsconfig.json && node --expose-gc dist/bench/rules-engine.js [--readings 400000]
 */
import { VirtualClock } from '../gateway/core/clock.js';
import type { ReadingRecord } from '../gateway/core/records.js';
import { loadRuleSources } from '../rules/load.js';
import { createRuleEngine, type RuleEngine } from '../rules/engine.js';
import type { CompiledRule } from '../rules/types.js';

const DEVICES = 1000;
const METRICS = ['temp', 'hum', 'co2', 'pressure', 'voltage', 'current', 'flow', 'level', 'rpm', 'lux'];
const T0 = Date.parse('2024-01-01T00:00:00Z');

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const READINGS = arg('--readings', 400_000);

/** mulberry32: small, fast, seeded. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Ten rules per metric, so every reading meets ten rules: 5 threshold, window, rate, sequence, absence, group. */
function ruleText(): string {
  const lines = ['rules:'];
  METRICS.forEach((m, i) => {
    const hi = 80 + i;
    lines.push(
      `  - { id: ${m}-hi, kind: threshold, metric: ${m}, when: value > ${hi}.0, clear: value < ${hi - 5}.0 }`,
      `  - { id: ${m}-hi-for, kind: threshold, metric: ${m}, when: value > ${hi - 2}.0, for: 30s, clearFor: 30s }`,
      `  - { id: ${m}-lo, kind: threshold, metric: ${m}, when: value < 12.0 }`,
      `  - { id: ${m}-band, kind: threshold, metric: ${m}, when: 'value > 70.0 && value < 71.0 && tags.zone == "z0"' }`,
      `  - { id: ${m}-zone, kind: threshold, metric: ${m}, per: device+metric, match: { tags: { site: s1 } }, when: value > 90.0 }`,
      `  - { id: ${m}-avg, kind: window, metric: ${m}, window: { type: tumbling, size: 1m }, aggregates: [avg, max], having: avg > 70.0, emit: { metric: ${m}_avg_1m } }`,
      `  - { id: ${m}-rate, kind: rate, metric: ${m}, when: rate > 5.0 }`,
      `  - id: ${m}-seq`,
      `    kind: sequence`,
      `    metric: ${m}`,
      `    within: 30s`,
      `    clearAfter: 1m`,
      `    steps:`,
      `      - { name: a, when: value > 85.0 }`,
      `      - { name: b, when: value > a.value }`,
      `  - { id: ${m}-silent, kind: absence, metric: ${m}, after: 10m }`,
      `  - { id: ${m}-group, kind: group, metric: ${m}, per: tag:zone, when: value > 88.0, atLeast: 3, within: 1m }`,
    );
  });
  return lines.join('\n') + '\n';
}

function loadRules(): CompiledRule[] {
  const r = loadRuleSources([{ file: 'bench.yaml', text: ruleText() }]);
  if (!r.ok) throw new Error(r.problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('\n'));
  const only = process.argv.indexOf('--only');
  return only < 0 ? [...r.rules] : r.rules.filter((rule) => rule.kind === process.argv[only + 1]);
}

const deviceTags = Array.from({ length: DEVICES }, (_, d) => ({ zone: `z${Math.floor(d / 20)}`, site: d % 2 ? 's1' : 's2' }));

/** Every device reports one metric per simulated second in turn: 1,000 readings a second, random walks near 50. */
function* readings(count: number, seed: number): Generator<ReadingRecord> {
  const random = rng(seed);
  const level = new Float64Array(DEVICES).fill(50);
  for (let i = 0; i < count; i++) {
    const d = i % DEVICES;
    const second = Math.floor(i / DEVICES);
    // mean-reverting walk around 50 (sd about 10): thresholds at 80+ are crossed now and then, not constantly
    level[d] = level[d]! + (50 - level[d]!) * 0.05 + (random() - 0.5) * 8;
    yield {
      v: 1,
      kind: 'reading',
      id: `b-${i}`,
      device: `d${String(d).padStart(4, '0')}`,
      metric: METRICS[(d + second) % METRICS.length]!,
      value: Math.round(level[d]! * 100) / 100,
      ts: T0 + second * 1000 + d,
      receivedAt: T0 + second * 1000 + d,
      source: 'bench',
      tags: deviceTags[d]!,
    };
  }
}

function engineFor(rules: CompiledRule[], clock: VirtualClock, sink: { alerts: number; derived: number }): RuleEngine {
  return createRuleEngine({ rules, clock, emit: (r) => (r.kind === 'alert' ? sink.alerts++ : sink.derived++) });
}

/**
 * Both wall time and this process's CPU time: on a shared machine the wall
 * clock also counts time spent waiting for a core; CPU time is what one core
 * spent (GC helper threads included, so it errs on the slow side).
 */
interface Timing {
  readonly wall: number;
  readonly cpu: number;
}

function timed(fn: () => void): Timing {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return { wall: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6 };
}

function run(engine: RuleEngine, clock: VirtualClock, data: readonly ReadingRecord[]): Timing {
  return timed(() => {
    for (const r of data) {
      if (r.ts > clock.now()) clock.advanceTo(r.ts); // the clock follows event time, as in replay
      engine.process(r);
    }
  });
}

/** The floor: JSON.parse plus 10 hand-written checks per reading. */
function floor(lines: readonly string[]): Timing & { hits: number } {
  let hits = 0;
  const t = timed(() => {
  for (const line of lines) {
    const o = JSON.parse(line) as { value: number; metric: string; device: string; tags: Record<string, string> };
    const v = o.value;
    if (v > 80) hits++;
    if (v > 78) hits++;
    if (v < 12) hits++;
    if (v > 40 && v < 41 && o.tags['zone'] !== 'z0') hits++;
    if (o.tags['site'] === 's1' && v > 90) hits++;
    if (o.metric === 'temp' && v > 85) hits++;
    if (o.metric === 'hum' && v > 88) hits++;
    if (o.device === 'd0001') hits++;
    if (v !== v) hits++;
    if (o.metric === 'co2' && v < 5) hits++;
  }
  });
  return { ...t, hits };
}

function heapMiB(): number {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

function main(): void {
  const rules = loadRules();
  const kinds = rules.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.kind]: (acc[r.kind] ?? 0) + 1 }), {});
  console.log(`weir rules engine benchmark: ${rules.length} rules (${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(', ')}), ${DEVICES} devices, ${METRICS.length} metrics; every reading meets ${rules.length / METRICS.length} rules`);
  console.log(`node ${process.version}, ${READINGS.toLocaleString('en')} readings per measured run (${READINGS / 1000} s of event time)`);

  if (!process.argv.includes('--engine-only')) memory(rules);

  // warm-up on other data, on an engine thrown away
  const warm = [...readings(Math.min(200_000, READINGS), 7)];
  const wc = new VirtualClock(T0);
  run(engineFor(rules, wc, { alerts: 0, derived: 0 }), wc, warm);

  const data = [...readings(READINGS, 42)];
  const lines = data.map((r) => JSON.stringify(r));
  floor(lines.slice(0, 100_000)); // warm the floor too
  const engineOnly = process.argv.includes('--engine-only'); // for --cpu-prof: no floor runs in the profile

  const engineRuns: Timing[] = [];
  const floorRuns: Timing[] = [];
  let sink = { alerts: 0, derived: 0 };
  let last: RuleEngine | undefined;
  for (let i = 0; i < 3; i++) {
    floorRuns.push(engineOnly ? { wall: 1, cpu: 1 } : floor(lines));
    const clock = new VirtualClock(T0);
    sink = { alerts: 0, derived: 0 };
    last?.close();
    last = engineFor(rules, clock, sink);
    engineRuns.push(run(last, clock, data));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rate = (runs: Timing[], k: 'wall' | 'cpu') => median(runs.map((t) => READINGS / t[k]));
  const stats = last!.stats();
  const keys = stats.rules.reduce((n, r) => n + r.stateKeys, 0);
  const evaluations = stats.rules.reduce((n, r) => n + r.evaluations, 0);
  console.log('');
  console.log('                 per CPU second      per wall second   (median of 3 runs)');
  console.log(`engine           ${fmt(rate(engineRuns, 'cpu')).padEnd(20)}${fmt(rate(engineRuns, 'wall')).padEnd(18)}readings/s`);
  console.log(`floor            ${fmt(rate(floorRuns, 'cpu')).padEnd(20)}${fmt(rate(floorRuns, 'wall')).padEnd(18)}readings/s (JSON.parse + 10 checks)`);
  console.log(`engine / floor   ${`${((rate(engineRuns, 'cpu') / rate(floorRuns, 'cpu')) * 100).toFixed(0)}%`.padEnd(20)}${((rate(engineRuns, 'wall') / rate(floorRuns, 'wall')) * 100).toFixed(0)}%`);
  console.log(`rule evaluations ${fmt((evaluations / READINGS) * rate(engineRuns, 'cpu'))}/s per CPU second (${evaluations / READINGS} per reading)`);
  console.log(`output           ${sink.alerts} alert records, ${sink.derived} derived readings per run; ${keys} state keys`);
  last!.close();

}

/**
 * Memory, measured first on a quiet heap: one engine with no keys, then the
 * same engine after two minutes of event time from fresh reading objects (as a
 * live gateway makes them, so state that keeps a reading pays for it).
 */
function memory(rules: CompiledRule[]): void {
  if (!globalThis.gc) {
    console.log('memory:  run with node --expose-gc to measure');
    return;
  }
  const m0 = heapMiB();
  const clock = new VirtualClock(T0);
  const engine = engineFor(rules, clock, { alerts: 0, derived: 0 });
  const m1 = heapMiB();
  for (const r of readings(120_000, 9)) {
    if (r.ts > clock.now()) clock.advanceTo(r.ts);
    engine.process(r);
  }
  const m2 = heapMiB();
  const keys = engine.stats().rules.reduce((n, r) => n + r.stateKeys, 0);
  const perRule = ((m1 - m0) * 1024 * 1024) / rules.length;
  const perKey = ((m2 - m1) * 1024 * 1024) / keys;
  console.log(`memory:  ${(perRule / 1024).toFixed(1)} KiB per loaded rule (no keys); ${perKey.toFixed(0)} bytes per state key on average (${keys} keys over all kinds)`);
  engine.close();
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(0)}k`;
}

main();
