/**
 * Store-and-forward end to end (issue 4): readings/s from an MQTT QoS 1
 * publish through weir's durable buffer to a real Kafka and a real
 * VictoriaMetrics (InfluxDB write API), as a ratio to bare aedes in the same
 * run; the effect of the buffer's fsync policy; and how fast a backlog drains
 * after the upstream server was stopped for a while under a paced 1k
 * readings/s ingest (target: at least 10x the ingest rate).
 *
 * weir runs as its own process (the real CLI); the upstreams are started and
 * stopped through test/services/{kafka,victoria-metrics}.sh. Build first, into
 * any directory inside the repository (node_modules is found from there):
 *
 *   npx tsc -p tsconfig.json --outDir bench/results/forward-e2e-build/dist
 *   node bench/results/forward-e2e-build/dist/bench/forward-e2e.js [--seconds 5] [--rounds 2] [--outage 20]
 *
 * (or `npm run build && node dist/bench/forward-e2e.js`). Results go to
 * bench/results/forward-e2e-<time>.{json,md}.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { createServer, type AddressInfo } from 'node:net';
import { seededTelemetry } from './harness/payloads.js';
import { wireClients } from './harness/wire-client.js';
import { cpuMsOf, loadAverage, machine } from './harness/proc.js';
import { median } from './harness/stats.js';
import { Publisher, type LoadResult } from './forward-e2e/load.js';
import { startAedes, startKafka, startVictoria, startWeir, type Kafka, type NodeServer, type Upstream, type Victoria } from './forward-e2e/peers.js';
import { renderMarkdown, type OutageRow, type Result, type ThroughputRow } from './forward-e2e/report.js';

const { values: a } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '1' },
    window: { type: 'string', default: '100' },
    outage: { type: 'string', default: '20' },
    'ingest-rate': { type: 'string', default: '1000' },
    devices: { type: 'string', default: '100' },
    seed: { type: 'string', default: '42' },
    skip: { type: 'string', default: '' }, // comma list of: throughput, outage, kafka, vm
    'node-flags': { type: 'string', default: '' }, // weir's: none, as bin/weir.js
  },
});
const SECONDS = Number(a.seconds);
const ROUNDS = Number(a.rounds);
const WINDOW = Number(a.window);
const OUTAGE_S = Number(a.outage);
const INGEST_RATE = Number(a['ingest-rate']);
const skip = new Set(a.skip.split(',').filter(Boolean));
const LAG_CAUGHT_UP = 200; // records: a fifth of a second of the paced ingest
const DRAIN_TARGET_X = 10;

// ── where things are ─────────────────────────────────────────────────────────
const distDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = findRoot(distDir);
const launcher = join(dirname(distDir), 'bin', 'weir.js');
if (!existsSync(launcher)) {
  // bin/weir.js imports ../dist/...: a copy beside this build runs this build
  mkdirSync(dirname(launcher), { recursive: true });
  copyFileSync(join(root, 'bin', 'weir.js'), launcher);
}
const aedesScript = join(distDir, 'bench', 'aedes-server.js');
const work = mkdtempSync(join(tmpdir(), 'weir-forward-e2e-'));
const prepared = wireClients.prepare(seededTelemetry(Number(a.seed), 20_000, Number(a.devices)), 1) as Buffer[];

// ── weir configs ─────────────────────────────────────────────────────────────
/** `down`: an InfluxDB sink to a closed port, so records stay in the buffer: the buffer's own cost. */
type SinkKind = 'kafka' | 'vm' | 'down';
let kafka: Kafka | undefined;
let closedPort = 9; // replaced by a port the kernel handed out and nobody listens on
let vm: Victoria | undefined;

function sinkYaml(kind: SinkKind, drainRate?: number): string {
  const delivery = `delivery: { backoffMax: 5s${drainRate === undefined ? '' : `, drainRate: ${drainRate}`} }`;
  if (kind === 'kafka') return `  - { kind: kafka, name: kafka, brokers: ['${kafka!.bootstrap}'], topics: { readings: 'bench.{gateway}.readings', alerts: 'bench.{gateway}.alerts' }, ${delivery} }`;
  if (kind === 'down') return `  - { kind: influxdb, name: down, url: 'http://127.0.0.1:${closedPort}', org: bench, bucket: bench, ${delivery} }`;
  return `  - { kind: influxdb, name: vm, url: '${vm!.url}', org: bench, bucket: bench, ${delivery} }`;
}

function weirYaml(id: string, fsync: 'always' | 'interval', sinks: string[]): string {
  return [
    `gateway: { id: ${id}, dataDir: data }`,
    'log: { level: info, pretty: false }',
    'broker: { listeners: { tcp: { host: 127.0.0.1, port: 0 } } }',
    'http: { host: 127.0.0.1, port: 0 }',
    // the aedes peer has no subscriber either: readings go to the buffer only
    'ingest: { republish: { enabled: false } }',
    `buffer: { fsync: { policy: ${fsync} } }`,
    ...(sinks.length ? ['sinks:', ...sinks] : []),
    '',
  ].join('\n');
}

let runNo = 0;
async function weir(id: string, yaml: string): Promise<NodeServer> {
  const dir = join(work, `${++runNo}-${id}`);
  mkdirSync(dir);
  return startWeir({ launcher, dir, yaml, nodeFlags: a['node-flags'].split(/\s+/).filter(Boolean) });
}

interface SinkProgress {
  readonly delivered: number;
  readonly lag: number;
  readonly circuit: string;
}

interface StatusSnapshot {
  readonly forwarding: {
    readonly buffer: { readonly fsyncs: number; readonly nextOffset: number; readonly perSink: Record<string, { readonly lag: number }> };
    readonly sinks: { readonly name: string; readonly circuit: string; readonly delivered: { readonly records: number } }[];
  } | null;
}

const status = async (httpPort: number) => (await (await fetch(`http://127.0.0.1:${httpPort}/api/status`)).json()) as StatusSnapshot;

async function progress(httpPort: number): Promise<Map<string, SinkProgress>> {
  const s = await status(httpPort);
  const out = new Map<string, SinkProgress>();
  for (const k of s.forwarding?.sinks ?? []) out.set(k.name, { delivered: k.delivered.records, lag: s.forwarding!.buffer.perSink[k.name]?.lag ?? 0, circuit: k.circuit });
  return out;
}

/** Appended records and fsyncs so far, when weir has a buffer. */
async function bufferCounts(s: NodeServer): Promise<{ records: number; fsyncs: number } | undefined> {
  if (!s.httpPort) return undefined;
  const b = (await status(s.httpPort)).forwarding?.buffer;
  return b && { records: b.nextOffset, fsyncs: b.fsyncs };
}

const sum = (m: Map<string, SinkProgress>, f: (p: SinkProgress) => number) => [...m.values()].reduce((n, p) => n + f(p), 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function untilDrained(httpPort: number, timeoutMs: number, maxLag = 0): Promise<number | undefined> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    const p = await progress(httpPort);
    if ([...p.values()].every((s) => s.lag <= maxLag)) return performance.now();
    await sleep(50);
  }
  return undefined;
}

// ── throughput: flood for SECONDS, with the given sinks ──────────────────────
async function throughput(label: string, id: string, server: () => Promise<NodeServer>, sinks: SinkKind[], fsync: ThroughputRow['fsync'], drainRate: number | undefined): Promise<ThroughputRow> {
  const s = await server();
  try {
    const pub = await Publisher.connect(s.mqttPort, `bench-${id}`, prepared);
    // warm-up: JIT, sink connections, topic metadata
    await pub.flood(1000, WINDOW);
    await pub.settle(10_000);
    const delivering = sinks.filter((k) => k !== 'down');
    if (s.httpPort && delivering.length) await untilDrained(s.httpPort, 60_000);
    const before = s.httpPort ? await progress(s.httpPort) : new Map<string, SinkProgress>();
    const buffer0 = await bufferCounts(s);
    const cpu0 = cpuMsOf(s.pid);
    const start = performance.now();
    const ingest = await pub.flood(SECONDS * 1000, WINDOW);
    const cpu = cpuMsOf(s.pid) - cpu0;
    const atDeadline = s.httpPort ? await progress(s.httpPort) : before;
    const buffer1 = await bufferCounts(s);
    await pub.settle(30_000);
    const ackedTotal = pub.acked;
    await pub.close();
    let drainedMs: number | undefined;
    let deliveredAll = 0;
    if (s.httpPort && delivering.length) {
      const done = await untilDrained(s.httpPort, 120_000);
      drainedMs = done === undefined ? undefined : done - start;
      const after = await progress(s.httpPort);
      deliveredAll = sum(after, (p) => p.delivered) - sum(before, (p) => p.delivered);
    }
    const duringRate = delivering.length ? ((sum(atDeadline, (p) => p.delivered) - sum(before, (p) => p.delivered)) / ingest.elapsedMs) * 1000 : undefined;
    const upstream = await upstreamHolds(id, delivering, ackedTotal);
    return {
      label,
      sinks: sinks.map((k) => (k === 'down' ? 'influxdb, unreachable' : k)).join(' + ') || '-',
      fsync,
      drainRate: !sinks.length ? '-' : drainRate === undefined ? 'none (default)' : drainRate === 0 ? 'none' : drainRate.toLocaleString('en-US'),
      ingest,
      cores: cpu / ingest.elapsedMs,
      recordsPerFsync: buffer0 && buffer1 ? (buffer1.records - buffer0.records) / Math.max(1, buffer1.fsyncs - buffer0.fsyncs) : undefined,
      upstreamDuring: duringRate === undefined ? undefined : duringRate / delivering.length,
      upstreamOverall: drainedMs === undefined || !delivering.length ? undefined : deliveredAll / delivering.length / (drainedMs / 1000),
      drainedAfterMs: drainedMs === undefined ? undefined : drainedMs - ingest.elapsedMs,
      upstream,
    };
  } finally {
    await s.stop();
  }
}

/** What the upstream servers say they hold, against the publishes acknowledged (warm-up included). */
async function upstreamHolds(id: string, sinks: SinkKind[], acked: number): Promise<string | undefined> {
  if (!sinks.length) return undefined;
  const parts: string[] = [];
  if (sinks.includes('kafka')) parts.push(`Kafka ${(await kafka!.count(`bench.${id}.readings`)).toLocaleString('en-US')}`);
  if (sinks.includes('vm')) {
    // VictoriaMetrics makes fresh samples searchable a little after a flush: wait until the count settles
    const selector = `{__name__=~"(temp|humidity|pressure|co2)_value",gateway="${id}"}`;
    let n = -1;
    for (let last = -2, until = performance.now() + 15_000; performance.now() < until && n < acked; last = n) {
      n = await vm!.count(selector, '1h');
      if (n === last && n >= acked) break;
      await sleep(500);
    }
    parts.push(`VM ${n.toLocaleString('en-US')}`);
  }
  return `${parts.join(', ')} of ${acked.toLocaleString('en-US')} acked`;
}

// ── outage: paced ingest, the upstream stopped for OUTAGE_S, then the drain ──
async function outage(kind: SinkKind, drainRate: number | undefined): Promise<OutageRow> {
  const id = `out-${kind}-${drainRate ?? 'default'}`;
  const upstream: Upstream = kind === 'kafka' ? kafka! : vm!;
  if (kind === 'kafka') await kafka!.createTopic(`bench.${id}.readings`, 4);
  const s = await weir(id, weirYaml(id, 'always', [sinkYaml(kind, drainRate)]));
  const samples: { t: number; delivered: number; lag: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const p = await progress(s.httpPort!).catch(() => undefined);
      const k = p?.get(kind);
      if (k) samples.push({ t: performance.now(), delivered: k.delivered, lag: k.lag });
      await sleep(100);
    }
  })();
  try {
    const pub = await Publisher.connect(s.mqttPort, `bench-${id}`, prepared);
    const paced = pub.paced(INGEST_RATE, WINDOW);
    await sleep(3000);
    const downAt = performance.now();
    await upstream.halt();
    await sleep(OUTAGE_S * 1000);
    const resumeAt = performance.now();
    await upstream.resume();
    const upAt = performance.now();
    const caught = await untilDrained(s.httpPort!, 180_000, LAG_CAUGHT_UP);
    await sleep(1000);
    const ingest = await paced.stop();
    await pub.close();
    sampling = false;
    await sampler;
    return outageFigures({ kind, drainRate, downAt, resumeAt, upAt, caught, samples, ingest });
  } finally {
    sampling = false;
    await s.stop();
  }
}

function outageFigures(o: {
  kind: SinkKind;
  drainRate: number | undefined;
  downAt: number;
  resumeAt: number;
  upAt: number;
  caught: number | undefined;
  samples: { t: number; delivered: number; lag: number }[];
  ingest: LoadResult;
}): OutageRow {
  const { samples } = o;
  const i0 = samples.findIndex((x, i) => i > 0 && x.t > o.resumeAt && x.delivered > samples[i - 1]!.delivered);
  const start = samples[Math.max(0, i0 - 1)]!;
  const i1 = samples.findIndex((x) => x.t > start.t && x.lag <= LAG_CAUGHT_UP);
  const end = samples[i1] ?? samples.at(-1)!;
  const seconds = (end.t - start.t) / 1000;
  const gross = (end.delivered - start.delivered) / seconds;
  return {
    sink: o.kind === 'kafka' ? 'Kafka' : 'VictoriaMetrics',
    drainRate: o.drainRate === undefined ? 'none (default)' : o.drainRate === 0 ? 'none (0)' : o.drainRate.toLocaleString('en-US'),
    ingestRate: o.ingest.rate,
    outageS: (o.upAt - o.downAt) / 1000,
    serverRestartS: (o.upAt - o.resumeAt) / 1000,
    backlog: Math.max(...samples.map((x) => x.lag)),
    firstDeliveryAfterUpS: i0 < 0 ? undefined : (samples[i0]!.t - o.upAt) / 1000,
    drainS: i1 < 0 || i0 < 0 ? undefined : seconds,
    grossRate: i0 < 0 ? undefined : gross,
    netRate: i0 < 0 ? undefined : (start.lag - end.lag) / seconds,
    timesIngest: i0 < 0 ? undefined : gross / INGEST_RATE,
    caughtUp: o.caught !== undefined,
  };
}

// ── the run ──────────────────────────────────────────────────────────────────
async function main(): Promise<void> {
  const loadBefore = loadAverage();
  const startedAt = new Date();
  const [k, v] = await Promise.all([
    skip.has('kafka') ? undefined : startKafka(root, join(work, 'kafka')),
    skip.has('vm') ? undefined : startVictoria(root, join(work, 'vm')),
  ]);
  kafka = k;
  vm = v;
  closedPort = await closedLoopbackPort();
  const throughputRounds: ThroughputRow[][] = [];
  const outages: OutageRow[] = [];
  try {
    if (!skip.has('throughput')) {
      for (let r = 0; r < ROUNDS; r++) {
        const rows: ThroughputRow[] = [];
        const run = async (label: string, id: string, sinks: SinkKind[], fsync: ThroughputRow['fsync'], drainRate?: number) => {
          const rid = `${id}-r${r}`;
          if (sinks.includes('kafka')) await kafka!.createTopic(`bench.${rid}.readings`, 4);
          const server = fsync === '-' ? () => startAedes(aedesScript, work) : () => weir(rid, weirYaml(rid, fsync, sinks.map((x) => sinkYaml(x, drainRate))));
          const row = await throughput(label, rid, server, sinks, fsync, drainRate);
          process.stderr.write(`round ${r + 1}: ${label} ${row.sinks} ${row.fsync}: ${Math.round(row.ingest.rate)} PUBACK/s\n`);
          rows.push(row);
        };
        await run('bare aedes', 'aedes', [], '-');
        await run('weir, no sinks (no buffer)', 'nosink', [], 'always');
        await run('weir, sink unreachable (buffer only)', 'down-always', ['down'], 'always');
        await run('weir, sink unreachable (buffer only)', 'down-interval', ['down'], 'interval');
        if (kafka) await run('weir', 'kafka-always', ['kafka'], 'always');
        if (kafka) await run('weir', 'kafka-interval', ['kafka'], 'interval');
        if (vm) await run('weir', 'vm-always', ['vm'], 'always');
        if (vm) await run('weir', 'vm-interval', ['vm'], 'interval');
        if (kafka && vm) await run('weir', 'both-always', ['kafka', 'vm'], 'always');
        // a drainRate cap (an option for metered uplinks) paces live records too: the same with one
        if (kafka) await run('weir', 'kafka-always-cap', ['kafka'], 'always', 10_000);
        if (vm) await run('weir', 'vm-always-cap', ['vm'], 'always', 10_000);
        throughputRounds.push(rows);
      }
    }
    if (!skip.has('outage')) {
      for (const kind of ['kafka', 'vm'] as const) {
        if ((kind === 'kafka' && !kafka) || (kind === 'vm' && !vm)) continue;
        for (const cap of [undefined, 10_000]) {
          const row = await outage(kind, cap);
          process.stderr.write(`outage ${row.sink} cap ${row.drainRate}: backlog ${row.backlog}, drain ${Math.round(row.grossRate ?? 0)}/s\n`);
          outages.push(row);
        }
      }
    }
  } finally {
    await Promise.all([kafka?.stop(), vm?.stop()]);
    rmSync(work, { recursive: true, force: true });
  }
  const result: Result = {
    benchmark: 'forward-e2e',
    startedAt: startedAt.toISOString(),
    command: `node ${process.argv.slice(1).map((x) => x.replace(`${root}/`, '')).join(' ')}`,
    machine: { ...machine(), loadBefore, loadAfter: loadAverage() },
    settings: { nodeFlags: a['node-flags'], seconds: SECONDS, rounds: ROUNDS, window: WINDOW, outageS: OUTAGE_S, ingestRate: INGEST_RATE, devices: Number(a.devices), seed: Number(a.seed), lagCaughtUp: LAG_CAUGHT_UP, drainTargetX: DRAIN_TARGET_X },
    throughput: mergeRounds(throughputRounds),
    rounds: throughputRounds,
    outages,
  };
  const md = renderMarkdown(result);
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const out = join(root, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `forward-e2e-${stamp}.json`), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(out, `forward-e2e-${stamp}.md`), md);
  process.stdout.write(md);
}

/** Per row, the round with the median ingest rate (a whole row, so its figures belong together). */
function mergeRounds(rounds: ThroughputRow[][]): ThroughputRow[] {
  if (rounds.length === 0) return [];
  return rounds[0]!.map((_, i) => {
    const rows = rounds.map((r) => r[i]!);
    const m = median(rows.map((r) => r.ingest.rate));
    return rows.reduce((best, r) => (Math.abs(r.ingest.rate - m) < Math.abs(best.ingest.rate - m) ? r : best));
  });
}

function closedLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function findRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'weir') return dir;
  }
  throw new Error(`no weir package.json above ${from}`);
}

await main();
