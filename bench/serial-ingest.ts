/**
 * Serial and GPIO benchmark.
 *
 * Serial: seeded JSON lines written into a socat pty pair by a separate writer
 * process, read by weir's SerialSource and decoded by the real ingest pipeline.
 * A pty moves bytes as fast as it can whatever the baud rate, so the writer
 * paces itself to the line rate (8N1: baud/10 bytes/s); an unpaced run finds
 * the ceiling. CPU is this process's user+system time over the run.
 *
 * GPIO: edges driven on the in-memory chip, through GpioSource, the pipeline
 * and the rules engine (a threshold rule on `pressed`), timed from the edge to
 * the alert record.
 *
 *   npx tsc -p tsconfig.json --outDir /tmp/weir-bench && node /tmp/weir-bench/bench/serial-ingest.js [--seconds 5] [--bauds 115200,921600,max] [--edges 20000]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { SystemClock, VirtualClock } from '../gateway/core/clock.js';
import { IngestPipeline } from '../gateway/ingest/pipeline.js';
import { Metrics } from '../gateway/metrics/metrics.js';
import { RecordIds } from '../gateway/core/record-ids.js';
import type { PipelineRecord } from '../gateway/core/contracts.js';
import { ProfileRouter } from '../devices/profiles/router.js';
import type { DeviceProfile } from '../devices/profiles/schema.js';
import { SerialSource } from '../devices/serial/serial-source.js';
import { resolveSerialSettings } from '../devices/serial/settings.js';
import { GpioSource } from '../devices/gpio/gpio-source.js';
import { MemoryGpioChip } from '../devices/gpio/memory-chip.js';
import { resolveGpioPins } from '../devices/gpio/settings.js';
import { createRuleEngine, loadRuleSources } from '../rules/index.js';
import { machine, cpuMsOf } from './harness/proc.js';

const { values: a } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    bauds: { type: 'string', default: '115200,921600,max' },
    edges: { type: 'string', default: '20000' },
    seed: { type: 'string', default: '42' },
  },
});
const SECONDS = Number(a.seconds);
const SEED = Number(a.seed);

const PROFILE: DeviceProfile = { name: 'bench-json', decoder: { kind: 'json' }, transport: { kind: 'serial' } };

/** The writer runs in its own process so its CPU is not counted as weir's. */
const WRITER = `
import { openSync } from 'node:fs';
import tty from 'node:tty';
const [peer, rate, seconds, seed] = process.argv.slice(1).map((v, i) => (i ? Number(v) : v));
let s = seed >>> 0;
const rnd = () => ((s = (s + 0x6d2b79f5) >>> 0), (((s ^ (s >>> 15)) * (1 | s)) >>> 0) / 4294967296);
let seq = 0;
const line = () => JSON.stringify({ temperature: Math.round((15 + rnd() * 15) * 100) / 100, humidity: Math.round(rnd() * 1000) / 10, seq: seq++ }) + '\\n';
const out = new tty.WriteStream(openSync(peer, 'r+'));
const start = Date.now();
let bytes = 0;
const done = () => out.end(() => { process.stdout.write(JSON.stringify({ lines: seq, bytes })); process.exit(0); });
const step = () => {
  const elapsed = (Date.now() - start) / 1000;
  if (elapsed >= seconds) return done();
  const due = rate > 0 ? rate * elapsed : Infinity;
  let chunk = '';
  while (bytes + chunk.length < due && chunk.length < 65536) chunk += line();
  bytes += chunk.length;
  if (chunk && !out.write(chunk)) return out.once('drain', () => setTimeout(step, rate > 0 ? 5 : 0));
  setTimeout(step, rate > 0 ? 5 : 0);
};
step();
`;

async function startSocat(dir: string): Promise<{ child: ChildProcess; device: string; peer: string }> {
  const device = join(dir, 'device');
  const peer = join(dir, 'peer');
  const child = spawn('socat', [`pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${peer}`], { stdio: 'ignore' });
  for (let i = 0; i < 250 && !(existsSync(device) && existsSync(peer)); i++) await new Promise((r) => setTimeout(r, 20));
  if (!existsSync(device)) throw new Error('socat did not create the pty pair');
  return { child, device, peer };
}

interface SerialRun {
  readonly baud: string;
  readonly offeredBytesPerS: number | null;
  readonly sent: number;
  readonly received: number;
  readonly framesPerS: number;
  readonly cpuMs: number;
  readonly cpuPerFrameUs: number;
  readonly corePercent: number;
  readonly socatCpuMs: number;
}

async function serialRun(baud: string): Promise<SerialRun> {
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-serial-'));
  const socat = await startSocat(dir);
  const rate = baud === 'max' ? 0 : Number(baud) / 10;
  let readings = 0;
  let frames = 0;
  let first = 0;
  let last = 0;
  const pipeline = new IngestPipeline({
    router: new ProfileRouter([PROFILE]),
    ids: RecordIds.open('bench', join(dir, 'data')),
    metrics: new Metrics(),
    log: pino({ level: 'silent' }),
    consumers: [(batch) => void (readings += batch.length)],
  });
  const settings = resolveSerialSettings({ path: socat.device, device: 'bench-1', profile: PROFILE.name, baud: baud === 'max' ? 921600 : Number(baud) }, [PROFILE]).settings!;
  const source = new SerialSource({ settings, clock: new SystemClock() });
  await source.start((f) => {
    frames++;
    last = performance.now();
    if (frames === 1) first = last;
    return pipeline.ingest(f);
  }, pipeline.problem);
  const cpu0 = process.cpuUsage();
  const socat0 = cpuMsOf(socat.child.pid!);
  const writer = spawn(process.execPath, ['--input-type=module', '-e', WRITER, socat.peer, String(rate), String(SECONDS), String(SEED)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  writer.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => writer.once('exit', r));
  const sent = (JSON.parse(out) as { lines: number }).lines;
  // let the last bytes through the pty
  for (let i = 0; i < 100 && frames < sent; i++) await new Promise((r) => setTimeout(r, 20));
  const cpu = process.cpuUsage(cpu0);
  const socatCpuMs = cpuMsOf(socat.child.pid!) - socat0;
  await source.stop();
  socat.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  const seconds = Math.max(1e-3, (last - first) / 1000);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  if (readings !== frames * 3) throw new Error(`expected 3 readings per frame, got ${readings} for ${frames}`);
  return {
    baud,
    offeredBytesPerS: rate || null,
    sent,
    received: frames,
    framesPerS: Math.round(frames / seconds),
    cpuMs: Math.round(cpuMs),
    cpuPerFrameUs: Math.round((cpuMs * 1000) / Math.max(1, frames) * 10) / 10,
    corePercent: Math.round((cpuMs / (seconds * 1000)) * 1000) / 10,
    socatCpuMs: Math.round(socatCpuMs),
  };
}

async function gpioRun(edges: number): Promise<{ edges: number; alerts: number; p50Us: number; p99Us: number; maxUs: number }> {
  const profiles: DeviceProfile[] = [{ name: 'button', decoder: { kind: 'value', metric: 'pressed' }, transport: { kind: 'gpio', direction: 'in', edge: 'both' } }];
  const rulesText = ['rules:', '  - id: pressed', '    kind: threshold', '    metric: pressed', '    when: value == true', '    clear: value == false', '    severity: info', '    message: "{device} pressed"', ''].join('\n');
  const loaded = loadRuleSources([{ file: 'bench.yaml', text: rulesText }]);
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('; '));
  const clock = new VirtualClock(Date.now());
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-gpio-'));
  let edgeAt = 0;
  const latencies: number[] = [];
  const engine = createRuleEngine({
    rules: loaded.rules,
    clock,
    emit: (r: PipelineRecord) => {
      if (r.kind === 'alert') latencies.push(performance.now() - edgeAt);
    },
  });
  const pipeline = new IngestPipeline({
    router: new ProfileRouter(profiles),
    ids: RecordIds.open('bench', dir),
    metrics: new Metrics(),
    log: pino({ level: 'silent' }),
    consumers: [(batch) => batch.forEach((r) => engine.process(r))],
  });
  const chip = new MemoryGpioChip();
  const { pins } = resolveGpioPins([{ name: 'b1', pin: 17, profile: 'button' }], profiles);
  const source = new GpioSource({ pins, chip, clock });
  await source.start(pipeline.ingest, pipeline.problem);
  for (let i = 0; i < edges; i++) {
    edgeAt = performance.now();
    chip.drive(17, (i % 2 === 0 ? 1 : 0) as 0 | 1);
    clock.advanceBy(1);
    // an event-loop turn per edge, as a real edge would arrive
    if (i % 64 === 0) await new Promise((r) => setImmediate(r));
  }
  await source.stop();
  engine.close();
  rmSync(dir, { recursive: true, force: true });
  const sorted = latencies.sort((x, y) => x - y);
  const q = (p: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN) * 1000 * 10) / 10;
  return { edges, alerts: latencies.length, p50Us: q(0.5), p99Us: q(0.99), maxUs: q(1) };
}

const serial: SerialRun[] = [];
for (const baud of a.bauds.split(',')) serial.push(await serialRun(baud));
const gpio = await gpioRun(Number(a.edges));
const result = { bench: 'serial-ingest', at: new Date().toISOString(), machine: machine(), seconds: SECONDS, seed: SEED, serial, gpio };
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
// results beside the other benchmarks' when run from the repository root
const resultsDir = join(process.cwd(), 'bench', 'results');
if (existsSync(join(process.cwd(), 'bench'))) {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `serial-ingest-${result.at.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
}
