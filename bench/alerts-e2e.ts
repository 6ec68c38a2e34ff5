/**
 * End to end: publish a reading, receive the alert it causes. weir (one hop:
 * its embedded broker runs the rule) side by side with Node-RED 4 + Mosquitto
 * (two hops: mqtt in → switch temp > 80 → change → mqtt out), and Mosquitto
 * alone as the floor (no processing: what this harness and a broker can do).
 *
 *   npx tsc -p tsconfig.json --outDir <build> && node <build>/bench/alerts-e2e.js
 *     [--rounds 2] [--nodered /tmp/nodered] [--weir-bin <path>] [--weir-flags "--max-semi-space-size=1 ..."]
 *     [--only weir,node-red,mosquitto]
 *
 * Node-RED is looked for in a separate install (`npm install --prefix /tmp/nodered node-red@4`),
 * never in this repository's dependencies; without it the comparison is skipped.
 *
 * Per system and round: a warm-up, latency at a paced 5,000 readings/s for 5 s,
 * then a ramp (3 s per step) up to the first rate it cannot sustain, then 20 s
 * of overload at twice the best sustained rate with the RSS of every process
 * of the system sampled every 100 ms (and kept once a second, to see whether it levels off). A rate is sustained when the publisher
 * achieved it (95%), 99.5% of the alerts arrived within 1 s of the last
 * publish, and their p99 latency stayed under 50 ms. The publisher and
 * subscriber share this process and core; the floor shows where they limit.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAverage, memoryOf } from './harness/proc.js';
import { median } from './harness/stats.js';
import { openSession, DEVICES, type Step } from './alerts-e2e/load.js';
import { nodeRedEntry, startFloor, startNodeRed, startWeir, type RunningSystem, type SystemName } from './alerts-e2e/systems.js';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const ROUNDS = Number(arg('--rounds') ?? 2);
const NODE_RED_PREFIX = arg('--nodered') ?? '/tmp/nodered';
const WEIR_BIN = arg('--weir-bin') ?? join(here, 'alerts-e2e/weir-bin.js');
// bin/weir.js gives the gateway no Node flags; --weir-flags "..." to try others (e.g. a larger young generation, --cpu-prof)
const WEIR_FLAGS = (arg('--weir-flags') ?? '').split(/\s+/).filter(Boolean);
const RAMP = [5_000, 10_000, 15_000, 20_000, 25_000, 30_000, 40_000, 50_000, 60_000, 80_000, 100_000];
const STEP_S = 3;
const GRACE_MS = 1000;
const OVERLOAD_S = 20;

interface SystemResult {
  readonly name: SystemName;
  readonly round: number;
  readonly latency: Step;
  readonly ramp: readonly Step[];
  /** Highest rate of the ramp that was sustained (0: none). */
  readonly sustained: number;
  readonly overload: Step;
  readonly idleRss: Readonly<Record<string, number>>;
  readonly afterRss: Readonly<Record<string, number>>;
}

function sustainedBy(s: Step): boolean {
  return s.achievedRate >= 0.95 * s.rate && s.received >= 0.995 * s.sent && s.latency.p99 <= 50;
}

async function measure(name: SystemName, round: number, root: string): Promise<SystemResult | undefined> {
  const dir = join(root, `${name}-${round}`);
  mkdirSync(dir, { recursive: true });
  let system: RunningSystem;
  if (name === 'weir') system = await startWeir(dir, WEIR_BIN, WEIR_FLAGS);
  else if (name === 'mosquitto') system = await startFloor(dir);
  else {
    const red = nodeRedEntry(NODE_RED_PREFIX);
    if (!red) return undefined;
    system = await startNodeRed(dir, red);
  }
  try {
    const session = await openSession(system, `${name}-${round}`);
    await session.step(2000, 1, GRACE_MS); // warm-up: JIT, connections, routes
    await session.step(5000, 1, GRACE_MS);
    const idleRss = rssOf(system);
    const latency = await session.step(5000, 5, GRACE_MS);
    log(name, 'latency', latency);
    const ramp: Step[] = [];
    for (const rate of RAMP) {
      const s = await session.step(rate, STEP_S, GRACE_MS);
      ramp.push(s);
      log(name, 'ramp', s);
      if (!sustainedBy(s)) break;
      await pause(300);
    }
    const sustained = Math.max(0, ...ramp.filter(sustainedBy).map((s) => s.rate));
    await pause(1000);
    const overload = await session.step(Math.max(2 * sustained, 10_000), OVERLOAD_S, 5000);
    log(name, 'overload', overload);
    console.log(`  ${name.padEnd(9)} overload RSS: ${rssTrend(overload)}`);
    await pause(3000);
    const afterRss = rssOf(system);
    await session.close();
    return { name, round, latency, ramp, sustained, overload, idleRss, afterRss };
  } finally {
    await system.stop();
  }
}

function rssOf(system: RunningSystem): Record<string, number> {
  return Object.fromEntries(Object.entries(system.pids).map(([n, pid]) => [n, memoryOf(pid)?.rss ?? Number.NaN]));
}

function rssTrend(s: Step): string {
  const at = (sec: number) => s.rssTimeline.find(([t]) => t >= sec)?.[1];
  return [5, 10, 20]
    .map((sec) => [sec, at(sec)] as const)
    .filter(([, r]) => r !== undefined)
    .map(([sec, r]) => `${sec}s ${Object.values(r!).map((b) => mib(b)).join('+')}`)
    .join(', ');
}

function log(name: string, what: string, s: Step): void {
  const rss = Object.entries(s.peakRss).map(([n, b]) => `${n} ${mib(b)}`).join(', ');
  console.log(
    `  ${name.padEnd(9)} ${what.padEnd(8)} ${String(s.rate).padStart(6)}/s: sent ${s.sent} at ${Math.round(s.achievedRate)}/s, alerts ${s.received} (${Math.round(s.deliveredRate)}/s)` +
      `${s.stray ? `, ${s.stray} stray` : ''}, p50 ${ms(s.latency.p50)} p99 ${ms(s.latency.p99)} max ${ms(s.latency.max)}; peak RSS ${rss}${sustainedBy(s) ? '' : '  [not sustained]'}`,
  );
}

const ms = (x: number) => (Number.isNaN(x) ? '-' : `${x.toFixed(2)} ms`);
const mib = (b: number | undefined) => (b === undefined || Number.isNaN(b) ? '-' : `${(b / 1048576).toFixed(0)} MiB`);
const pause = (t: number) => new Promise((r) => setTimeout(r, t));

function summary(results: readonly SystemResult[]): string {
  const names = [...new Set(results.map((r) => r.name))];
  const lines = [
    '| system | alert p50 at 5k/s | alert p99 at 5k/s | max sustained rate (alerts flowing) | RSS idle | peak RSS, 20 s at 2× sustained | RSS at 5 s / 10 s / 20 s of it | alerts/s delivered in overload |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const n of names) {
    const rs = results.filter((r) => r.name === n);
    const procs = Object.keys(rs[0]!.idleRss);
    const rss = (pick: (r: SystemResult) => Readonly<Record<string, number>>) => procs.map((p) => `${p} ${mib(median(rs.map((r) => pick(r)[p] ?? Number.NaN)))}`).join(' + ');
    lines.push(
      `| ${n === 'mosquitto' ? 'floor: Mosquitto alone, no processing' : n} | ${ms(median(rs.map((r) => r.latency.latency.p50)))} | ${ms(median(rs.map((r) => r.latency.latency.p99)))} ` +
        `| ${rs.map((r) => `${r.sustained / 1000}k`).join(', ')} msg/s | ${rss((r) => r.idleRss)} | ${rss((r) => r.overload.peakRss)} ` +
        `| ${rs.map((r) => rssTrend(r.overload)).join('; ')} | ${rs.map((r) => `${(r.overload.deliveredRate / 1000).toFixed(1)}k of ${r.overload.rate / 1000}k offered`).join(', ')} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const only = arg('--only')?.split(',') as SystemName[] | undefined;
  const systems: SystemName[] = only ?? ['mosquitto', 'weir', 'node-red'];
  if (!nodeRedEntry(NODE_RED_PREFIX)) console.log(`Node-RED not found under ${NODE_RED_PREFIX} (npm install --prefix ${NODE_RED_PREFIX} node-red@4): comparison skipped`);
  console.log(`alerts end to end: ${DEVICES} devices, QoS 0, MQTT.js publisher and subscriber (TCP_NODELAY) in this process; node ${process.version}; weir flags ${WEIR_FLAGS.join(' ')}; load average ${loadAverage()}`);
  const root = mkdtempSync(join(tmpdir(), 'weir-alerts-e2e-'));
  const results: SystemResult[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      // systems take turns within a round, so a change in the machine's load hits each alike
      for (const name of systems) {
        console.log(`round ${round}, ${name} (load average ${loadAverage()})`);
        const r = await measure(name, round, root);
        if (r) results.push(r);
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  console.log('');
  console.log(summary(results));
  const out = resolve('bench/results'); // run from the repository root
  try {
    mkdirSync(out, { recursive: true });
    const file = join(out, `alerts-e2e-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify({ node: process.version, devices: DEVICES, results }, null, 2));
    console.log(`\nfull figures: ${file}`);
  } catch {
    // the results directory is a convenience
  }
}

await main();
process.exit(0);
