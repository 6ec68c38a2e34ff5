/**
 * The gateway-core benchmark: readings/s through weir's broker and ingestion,
 * side by side in the same run with bare aedes and with Mosquitto; latency at
 * a paced rate; idle and loaded RSS. Seeded and repeatable; see BENCHMARKS.md.
 *
 *   npm run bench -- [--messages 100000] [--runs 3] [--brokers weir,aedes,...] [--cpu-prof]
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { BROKER_KINDS, DEFAULT_BROKERS, entryNodeFlags, startBroker, type BrokerKind, type RunningBroker } from './harness/brokers.js';
import { seededTelemetry } from './harness/payloads.js';
import { wireClients } from './harness/wire-client.js';
import { mqttJsClients } from './harness/mqttjs-client.js';
import { runThroughput, type ThroughputResult } from './harness/throughput.js';
import { runLatency } from './harness/latency.js';
import { loadAverage, machine, memoryOf } from './harness/proc.js';
import { median } from './harness/stats.js';
import { summariseProfile } from './harness/cpu-profile.js';
import { renderMarkdown, renderText, type BenchResult, type MemoryFigures, type Qos, type Settings, type ThroughputCell } from './harness/report.js';

const TARGET_INGEST_RATIO = 0.9;
const TARGET_IDLE_RSS_MIB = 70;
const SETTLE_MS = 3000;
// V8 shrinks the young generation it grew while starting ~15 s after the last
// allocation burst (its memory reducer); idle RSS is read once that has happened
const IDLE_WAIT_MS = 25_000;

const { values: a } = parseArgs({
  options: {
    messages: { type: 'string', default: '200000' },
    runs: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '20000' },
    window: { type: 'string', default: '500' },
    seed: { type: 'string', default: '42' },
    devices: { type: 'string', default: '50' },
    brokers: { type: 'string', default: DEFAULT_BROKERS.join(',') },
    client: { type: 'string', default: 'wire' },
    'node-flags': { type: 'string' },
    qos: { type: 'string', default: '0,1' },
    'latency-rate': { type: 'string', default: '5000' },
    'latency-seconds': { type: 'string', default: '5' },
    'skip-latency': { type: 'boolean', default: false },
    'stall-ms': { type: 'string', default: '10000' },
    'idle-wait': { type: 'string', default: String(IDLE_WAIT_MS) },
    'cpu-prof': { type: 'boolean', default: false },
    out: { type: 'string' },
    check: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (a.help) {
  process.stdout.write(
    [
      'npm run bench -- [options]',
      '  --messages N         messages per throughput run (200000)',
      '  --runs N             measured runs per broker and QoS; the median is reported (3)',
      '  --warmup N           messages per warm-up run, one per broker and QoS (20000)',
      '  --window N           messages in flight (unreceived, and at QoS 1 unacknowledged) (500)',
      '  --seed N --devices N the seeded telemetry: same seed, same messages (42, 50)',
      `  --brokers LIST       any of ${BROKER_KINDS.join(',')} (${DEFAULT_BROKERS.join(',')})`,
      "  --node-flags='F ...' Node flags for weir and aedes (default: those in bin/weir.js's shebang)",
      '  --client wire|mqttjs the load client: a raw-socket client (default) or MQTT.js',
      '  --qos LIST           0,1',
      `  --idle-wait MS        idle RSS is read this long after start, with no load (${IDLE_WAIT_MS})`,
      '  --latency-rate N --latency-seconds N   paced latency runs (5000, 5); --skip-latency',
      '  --cpu-prof           run the Node brokers under node --cpu-prof and summarise the profiles',
      '  --out DIR            where results go (bench/results)',
      '  --check              exit 1 when a target is missed',
      '',
    ].join('\n'),
  );
  process.exit(0);
}

const positive = (name: string, text: string | undefined): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return n;
};
const brokers = a.brokers.split(',').map((b) => {
  if (!(BROKER_KINDS as readonly string[]).includes(b)) throw new Error(`unknown broker ${b}; known: ${BROKER_KINDS.join(', ')}`);
  return b as BrokerKind;
});
const qosList = a.qos.split(',').map((q) => {
  if (q !== '0' && q !== '1') throw new Error(`--qos takes 0 and/or 1, got ${q}`);
  return Number(q) as Qos;
});
if (a.client !== 'wire' && a.client !== 'mqttjs') throw new Error(`--client takes wire or mqttjs, got ${a.client}`);
const clients = a.client === 'wire' ? wireClients : mqttJsClients;
const root = fileURLToPath(new URL('../../', import.meta.url));
const nodeFlags = a['node-flags'] !== undefined ? a['node-flags'].split(/\s+/).filter(Boolean) : entryNodeFlags(root);
const settings: Settings = {
  messages: positive('messages', a.messages),
  runs: positive('runs', a.runs),
  warmup: Number(a.warmup),
  window: positive('window', a.window),
  seed: Number(a.seed),
  devices: positive('devices', a.devices),
  latencyRate: positive('latency-rate', a['latency-rate']),
  latencySeconds: positive('latency-seconds', a['latency-seconds']),
  brokers,
  qos: qosList,
  latency: !a['skip-latency'],
  cpuProf: a['cpu-prof'],
  client: clients.name,
  idleWaitMs: positive('idle-wait', a['idle-wait']),
  nodeFlags,
};
const stallMs = positive('stall-ms', a['stall-ms']);

const outDir = resolve(a.out ?? join(root, 'bench/results'));
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const scratch = mkdtempSync(join(tmpdir(), 'weir-bench-'));
const profileDir = settings.cpuProf ? join(outDir, `profile-${stamp}`) : undefined;
const log = (line: string) => process.stderr.write(`${line}\n`);

const running = new Map<BrokerKind, RunningBroker>();
const stopAll = () => Promise.all([...running.values()].map((b) => b.stop()));
process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));

try {
  const result = await bench();
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `ingest-${stamp}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${base}.md`, renderMarkdown(result));
  process.stdout.write(`${renderText(result)}\nresults: ${relative(process.cwd(), base)}.json and .md\n`);
  if (a.check && result.targets.some((t) => !t.pass)) process.exitCode = 1;
} finally {
  await stopAll();
  rmSync(scratch, { recursive: true, force: true });
}

async function bench(): Promise<BenchResult> {
  const startedAt = new Date().toISOString();
  const loadBefore = loadAverage();
  for (const kind of settings.brokers) {
    const dir = join(scratch, kind);
    mkdirSync(dir);
    const cpuProfDir = profileDir && kind !== 'mosquitto' ? join(profileDir, kind) : undefined;
    if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
    running.set(kind, await startBroker(kind, { root, dir, cpuProfDir, nodeFlags }));
    log(`started ${kind} (pid ${running.get(kind)!.pid}, port ${running.get(kind)!.port})`);
  }
  const bootedAt = Date.now();
  await sleep(SETTLE_MS);
  const startup = new Map<BrokerKind, number>();
  for (const [kind, b] of running) startup.set(kind, memoryOf(b.pid)?.rss ?? Number.NaN);
  await sleep(Math.max(0, settings.idleWaitMs - (Date.now() - bootedAt)));
  const idle = new Map<BrokerKind, { rss: number; anon: number }>();
  for (const [kind, b] of running) idle.set(kind, memoryOf(b.pid) ?? { rss: Number.NaN, anon: Number.NaN });
  const idleMetrics = new Map<BrokerKind, number | undefined>();
  for (const [kind, b] of running) idleMetrics.set(kind, await scrapeRss(b));

  // The same seed gives the same messages; warm-up uses other ones so nothing is cached by content.
  const telemetry = seededTelemetry(settings.seed, settings.messages, settings.devices);
  const warmTelemetry = seededTelemetry(settings.seed + 1, settings.warmup, settings.devices);
  const prepared = new Map(settings.qos.map((q) => [q, clients.prepare(telemetry, q)]));
  const warmPrepared = new Map(settings.qos.map((q) => [q, clients.prepare(warmTelemetry, q)]));

  let tag = 0;
  if (settings.warmup > 0) {
    for (const [kind, b] of running) {
      for (const q of settings.qos) {
        await runThroughput(b, { qos: q, window: settings.window, clients, prepared: warmPrepared.get(q)!, stallMs, tag: `${++tag}` });
      }
      log(`warmed up ${kind}`);
    }
  }

  // Latency before the throughput rounds: warmed up, but not paying for the garbage of 200k-message runs.
  const latency: BenchResult['latency'] = {};
  if (settings.latency) {
    await sleep(SETTLE_MS);
    for (const [kind, b] of running) {
      for (const q of settings.qos) {
        const l = await runLatency(b, { qos: q, rate: settings.latencyRate, seconds: settings.latencySeconds, devices: settings.devices, clients, tag: `${++tag}` });
        (latency[kind] ??= {})[`qos${q}`] = l;
        log(`latency ${kind} QoS ${q}: p50 ${l.latency.p50.toFixed(3)} ms, p99 ${l.latency.p99.toFixed(3)} ms, ${l.received}/${l.sent} received`);
        await sleep(500);
      }
    }
  }

  // Rounds rotate the broker order, so no broker always runs first or right after another's garbage.
  const runs = new Map<string, ThroughputResult[]>();
  const kinds = [...running.keys()];
  for (let round = 0; round < settings.runs; round++) {
    for (let i = 0; i < kinds.length; i++) {
      const kind = kinds[(i + round) % kinds.length]!;
      for (const q of settings.qos) {
        const r = await runThroughput(running.get(kind)!, { qos: q, window: settings.window, clients, prepared: prepared.get(q)!, stallMs, tag: `${++tag}` });
        const key = `${kind}:${q}`;
        runs.set(key, [...(runs.get(key) ?? []), r]);
        log(`round ${round + 1}: ${kind} QoS ${q}: ${Math.round(r.rate)} msg/s (cores: broker ${r.brokerCores.toFixed(2)}, client ${r.clientCores.toFixed(2)}, other ${r.otherCores.toFixed(2)})`);
      }
    }
  }

  const throughput: BenchResult['throughput'] = {};
  for (const kind of kinds) {
    const cells: Partial<Record<`qos${Qos}`, ThroughputCell>> = {};
    for (const q of settings.qos) {
      const rs = runs.get(`${kind}:${q}`) ?? [];
      cells[`qos${q}`] = {
        runs: rs,
        median: {
          rate: median(rs.map((r) => r.rate)),
          brokerCpuMsPer1k: median(rs.map((r) => r.brokerCpuMsPer1k)),
          brokerCores: median(rs.map((r) => r.brokerCores)),
          clientCores: median(rs.map((r) => r.clientCores)),
          otherCores: median(rs.map((r) => r.otherCores)),
        },
        peakRss: Math.max(...rs.map((r) => r.peakRss)),
      };
    }
    throughput[kind] = cells;
  }

  await sleep(SETTLE_MS);
  const memory: BenchResult['memory'] = {};
  for (const [kind, b] of running) {
    const now = memoryOf(b.pid);
    const cells = throughput[kind] ?? {};
    const figures: MemoryFigures = {
      startupRss: startup.get(kind)!,
      idleRss: idle.get(kind)!.rss,
      idleAnon: idle.get(kind)!.anon,
      idleMetricsRss: idleMetrics.get(kind),
      loadedPeakRss: Math.max(...Object.values(cells).map((c) => c.peakRss)),
      hwm: now?.hwm ?? Number.NaN,
      afterLoadRss: now?.rss ?? Number.NaN,
    };
    memory[kind] = figures;
  }

  const ratios: BenchResult['ratios'] = {};
  for (const q of settings.qos) {
    const weir = throughput.weir?.[`qos${q}`]?.median.rate;
    if (weir === undefined) continue;
    const row: Record<string, number> = {};
    for (const kind of kinds) if (kind !== 'weir') row[`weir/${kind}`] = weir / throughput[kind]![`qos${q}`]!.median.rate;
    ratios[`qos${q}`] = row;
  }

  const targets: { name: string; target: string; measured: string; pass: boolean }[] = [];
  for (const q of settings.qos) {
    const r = ratios[`qos${q}`]?.['weir/aedes'];
    if (r !== undefined) targets.push({ name: `ingest throughput, QoS ${q}`, target: `>= ${TARGET_INGEST_RATIO}x bare aedes`, measured: `${r.toFixed(2)}x`, pass: r >= TARGET_INGEST_RATIO });
  }
  const weirIdle = memory.weir?.idleRss;
  if (weirIdle !== undefined) {
    const mib = weirIdle / 1048576;
    targets.push({ name: 'weir idle RSS', target: `<= ${TARGET_IDLE_RSS_MIB} MiB`, measured: `${mib.toFixed(1)} MiB`, pass: mib <= TARGET_IDLE_RSS_MIB });
  }

  await stopAll();
  running.clear();
  const profiles: NonNullable<BenchResult['profiles']> = {};
  for (const kind of profileDir ? kinds.filter((k) => k !== 'mosquitto') : []) {
    const dir = join(profileDir!, kind);
    const file = readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(dir, f))
      .sort((x, y) => statSync(y).mtimeMs - statSync(x).mtimeMs)[0];
    if (file) profiles[kind] = { file: relative(root, file), summary: summariseProfile(file, new RegExp(`^file://${escapeRegExp(root)}dist/(gateway|devices)/`)) };
    else log(`${kind} wrote no CPU profile`);
  }

  return {
    benchmark: 'ingest',
    startedAt,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: { ...machine(), mosquitto: mosquittoVersion(), loadBefore, loadAfter: loadAverage() },
    revision: revision(),
    settings,
    throughput,
    ratios,
    latency,
    memory,
    targets,
    ...(profileDir ? { profiles } : {}),
  };
}

/** weir_process_resident_memory_bytes (prom-client's process_resident_memory_bytes, prefixed) from /metrics. */
async function scrapeRss(weir: RunningBroker): Promise<number | undefined> {
  if (!weir.httpPort) return undefined;
  const text = await (await fetch(`http://127.0.0.1:${weir.httpPort}/metrics`)).text();
  const m = /^(?:weir_)?process_resident_memory_bytes\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The commit measured, and whether gateway/ or devices/ had uncommitted changes (then the figures are for the work tree). */
function revision(): { commit: string; dirty: boolean } {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return { commit: git('rev-parse', '--short', 'HEAD'), dirty: git('status', '--porcelain', '--', 'gateway', 'devices', 'bin') !== '' };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function mosquittoVersion(): string {
  try {
    execFileSync('/usr/sbin/mosquitto', ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    // `mosquitto -h` exits 3 after printing its version
    const out = String((e as { stdout?: unknown }).stdout ?? '');
    return /mosquitto version [\d.]+/.exec(out)?.[0] ?? 'mosquitto (version unknown)';
  }
  return 'mosquitto (version unknown)';
}
