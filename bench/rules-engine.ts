/**
 * The rule engine alone: readings/s with 100 rules over 1,000 devices (a mix
 * of every kind), next to the floor the issue names (JSON.parse plus 10
 * hand-written checks per reading) measured in the same process, plus memory
 * per key and per rule. Seeded, so every run sees the same data.
 *
 *   npm run bench:rules    (or: node --expose-gc <build>/bench/rules-engine.js; without
 *                          --expose-gc, no memory figures)
 *     [--readings 400000] [--runs 5] [--only threshold|window|rate|sequence|absence|group]
 *     [--engine-only]  (no floor or memory: for --cpu-prof)
 *
 * Three ways to feed the engine, all reported:
 *  - steady: a running engine, every key already made and settled: each
 *    run's first SETTLE_S seconds of event time go through untimed (every
 *    device reports every metric in its first 10 s, so the 85,500 keys exist
 *    after that, and the young-generation collections of the next 50 s move
 *    them to the old generation) and the rest is timed. What a gateway that
 *    has been up for a while spends.
 *  - cold: a new engine timed from its first reading, so the time to make
 *    every key (and the GC copying them while they are young) counts. The
 *    headline until the fourth session.
 *  Both are fresh: each reading object is built just before it is processed,
 *  from packed arrays, as a decoder makes it in the gateway; the time to build
 *  them (measured alone, same run) is subtracted. State that keeps a reading
 *  keeps a young object, and the GC cost of that counts.
 *  - prebuilt: cold, with every reading object built before the clock starts
 *    (the first version of this benchmark). Cheaper for the GC, so it flatters the engine.
 */
import type { ReadingRecord } from '../gateway/core/records.js';
import { BenchClock } from './rules-clock.js';
import { loadRuleSources } from '../rules/load.js';
import { createRuleEngine, type RuleEngine } from '../rules/engine.js';
import type { CompiledRule } from '../rules/types.js';
import { mulberry32 as rng } from '../firmware-sim/random.js';

const DEVICES = 1000;
const METRICS = ['temp', 'hum', 'co2', 'pressure', 'voltage', 'current', 'flow', 'level', 'rpm', 'lux'];
const T0 = Date.parse('2024-01-01T00:00:00Z');

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const READINGS = arg('--readings', 400_000);
const RUNS = arg('--runs', 5);
/**
 * Event time fed untimed to each steady-state engine before its clock starts.
 * 20 s made every key but left them young: the timed part then paid for the
 * scavenges promoting them (up to 25 MB of key state, 13-33 ms pauses),
 * which is the cold start's cost. By 60 s they are old, and the timed
 * scavenges promote next to nothing.
 */
const SETTLE_S = 60;


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

function engineFor(rules: CompiledRule[], clock: BenchClock, sink: { alerts: number; derived: number }): RuleEngine {
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

function runPrebuilt(engine: RuleEngine, clock: BenchClock, data: readonly ReadingRecord[]): Timing {
  return timed(() => {
    for (const r of data) {
      if (r.ts > clock.now()) clock.advanceTo(r.ts); // the clock follows event time, as in replay
      engine.process(r);
    }
  });
}

/** Readings as columns: what is needed to build each reading object inside the timed loop. */
interface Packed {
  readonly device: Int32Array;
  readonly metric: Int32Array;
  readonly value: Float64Array;
  readonly ts: Float64Array;
}

function pack(data: readonly ReadingRecord[]): Packed {
  const p = { device: new Int32Array(data.length), metric: new Int32Array(data.length), value: new Float64Array(data.length), ts: new Float64Array(data.length) };
  data.forEach((r, i) => {
    p.device[i] = Number(r.device.slice(1));
    p.metric[i] = METRICS.indexOf(r.metric);
    p.value[i] = r.value as number;
    p.ts[i] = r.ts;
  });
  return p;
}

const DEVICE_SUFFIX = Array.from({ length: DEVICES }, (_, d) => String(d).padStart(4, '0'));

/** A new reading object with its own device and id strings, as a decoder builds one from a payload. */
function materialize(p: Packed, i: number): ReadingRecord {
  const d = p.device[i]!;
  const ts = p.ts[i]!;
  return { v: 1, kind: 'reading', id: `b-${i}`, device: `d${DEVICE_SUFFIX[d]!}`, metric: METRICS[p.metric[i]!]!, value: p.value[i]!, ts, receivedAt: ts, source: 'bench', tags: deviceTags[d]! };
}

/** Feeds readings [from, n) through the engine (or only builds them), timed; readings before `from` go through untimed first. */
function runFresh(engine: RuleEngine | undefined, clock: BenchClock, p: Packed, from = 0): Timing {
  const n = p.ts.length;
  let keep = 0;
  for (let i = 0; i < from && engine !== undefined; i++) {
    const r = materialize(p, i);
    if (r.ts > clock.now()) clock.advanceTo(r.ts);
    engine.process(r);
  }
  return timed(() => {
    for (let i = from; i < n; i++) {
      const r = materialize(p, i);
      if (engine === undefined) {
        keep += r.device.length; // building alone: keep the object from being optimized away
        continue;
      }
      if (r.ts > clock.now()) clock.advanceTo(r.ts);
      engine.process(r);
    }
    if (keep < 0) console.log(keep);
  });
}

/** The floor: JSON.parse plus 10 hand-written checks per reading. */
function floor(lines: readonly string[]): Timing & { hits: number } {
  let hits = 0;
  const t = timed(() => {
    for (const line of lines) {
      const o = JSON.parse(line) as { value: number; metric: string; device: string; tags?: Record<string, string> };
      const v = o.value;
      if (v > 80) hits++;
      if (v > 78) hits++;
      if (v < 12) hits++;
      if (v > 40 && v < 41 && o.tags?.['zone'] !== 'z0') hits++;
      if (o.tags?.['site'] === 's1' && v > 90) hits++;
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

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function main(): void {
  const rules = loadRules();
  const engineOnly = process.argv.includes('--engine-only');
  const kinds = rules.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.kind]: (acc[r.kind] ?? 0) + 1 }), {});
  console.log(`weir rules engine benchmark: ${rules.length} rules (${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(', ')}), ${DEVICES} devices, ${METRICS.length} metrics; every reading meets ${rules.length / METRICS.length} rules`);
  console.log(`node ${process.version}, ${READINGS.toLocaleString('en')} readings per measured run (${READINGS / 1000} s of event time), ${RUNS} runs`);

  if (!engineOnly) memory(rules);

  // warm-up on other data, on engines thrown away
  {
    const warm = [...readings(Math.min(200_000, READINGS), 7)];
    const wc = new BenchClock(T0);
    runPrebuilt(engineFor(rules, wc, { alerts: 0, derived: 0 }), wc, warm);
    const wc2 = new BenchClock(T0);
    runFresh(engineFor(rules, wc2, { alerts: 0, derived: 0 }), wc2, pack(warm));
  }

  const data = [...readings(READINGS, 42)];
  const packed = pack(data);
  const lines = data.map((r) => JSON.stringify(r));
  // the shape the issue's floor (about 1.4M/s there) parses: a replay line, not a full record
  const shortLines = data.map((r) => JSON.stringify({ ts: r.ts, device: r.device, metric: r.metric, value: r.value }));
  floor(lines.slice(0, 100_000)); // warm the floor too
  floor(shortLines.slice(0, 100_000));
  runFresh(undefined, new BenchClock(T0), packed);
  const settle = Math.min(SETTLE_S * DEVICES, READINGS / 2);

  const fresh: number[] = [];
  const steady: number[] = [];
  const prebuilt: Timing[] = [];
  const floors: Timing[] = [];
  const shortFloors: Timing[] = [];
  const building: number[] = [];
  let sink = { alerts: 0, derived: 0 };
  let last: RuleEngine | undefined;
  for (let i = 0; i < RUNS; i++) {
    // interleaved, so a change in the machine's load hits all of them alike
    if (!engineOnly) floors.push(floor(lines));
    if (!engineOnly) shortFloors.push(floor(shortLines));
    const build = runFresh(undefined, new BenchClock(T0), packed).cpu;
    building.push(build);
    let clock = new BenchClock(T0);
    last?.close();
    last = engineFor(rules, clock, { alerts: 0, derived: 0 });
    fresh.push(runFresh(last, clock, packed).cpu - build);
    const buildSteady = runFresh(undefined, new BenchClock(T0), packed, settle).cpu;
    clock = new BenchClock(T0);
    last.close();
    last = engineFor(rules, clock, { alerts: 0, derived: 0 });
    steady.push(runFresh(last, clock, packed, settle).cpu - buildSteady);
    clock = new BenchClock(T0);
    sink = { alerts: 0, derived: 0 };
    last.close();
    last = engineFor(rules, clock, sink);
    prebuilt.push(runPrebuilt(last, clock, data));
  }
  const perCpu = (xs: readonly number[]) => median(xs.map((c) => READINGS / c));
  const stats = last!.stats();
  const keys = stats.rules.reduce((n, r) => n + r.stateKeys, 0);
  const evaluations = stats.rules.reduce((n, r) => n + r.evaluations, 0);
  const floorRate = engineOnly ? NaN : perCpu(floors.map((t) => t.cpu));
  const freshRate = perCpu(fresh);
  const steadyRate = median(steady.map((c) => (READINGS - settle) / c));
  const preRate = perCpu(prebuilt.map((t) => t.cpu));
  const pct = (x: number) => (engineOnly ? '-' : `${((x / floorRate) * 100).toFixed(0)}%`);
  console.log('');
  console.log(`readings/s per CPU second, median of ${RUNS} runs        vs floor`);
  console.log(`engine, steady state       ${fmt(steadyRate).padEnd(28)}${pct(steadyRate)}   (every key made: the first ${settle / DEVICES} s of event time untimed)`);
  console.log(`engine, cold start         ${fmt(freshRate).padEnd(28)}${pct(freshRate)}   (a new engine makes all its keys in the run; building the objects, ${fmt(perCpu(building))}/s, subtracted from both)`);
  console.log(`engine, prebuilt readings  ${fmt(preRate).padEnd(28)}${pct(preRate)}   (cold; wall: ${fmt(median(prebuilt.map((t) => READINGS / t.wall)))}/s)`);
  if (!engineOnly) {
    console.log(`floor                      ${fmt(floorRate).padEnd(28)}100%  (JSON.parse of the full record + 10 checks; wall: ${fmt(median(floors.map((t) => READINGS / t.wall)))}/s)`);
    console.log(`floor, the issue's shape   ${fmt(perCpu(shortFloors.map((t) => t.cpu))).padEnd(28)}      (JSON.parse of {ts, device, metric, value} + 10 checks)`);
  }
  console.log(`spread (min-max)           steady ${range(steady.map((c) => (READINGS - settle) / c))}, cold ${range(fresh.map((c) => READINGS / c))}, prebuilt ${range(prebuilt.map((t) => READINGS / t.cpu))}${engineOnly ? '' : `, floor ${range(floors.map((t) => READINGS / t.cpu))}`}`);
  console.log(`rule evaluations           ${fmt((evaluations / READINGS) * steadyRate)}/s per CPU second, steady (${evaluations / READINGS} per reading)`);
  console.log(`output                     ${sink.alerts} alert records, ${sink.derived} derived readings per run; ${keys} state keys`);
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
  const clock = new BenchClock(T0);
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

function range(xs: readonly number[]): string {
  return `${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}`;
}

main();
