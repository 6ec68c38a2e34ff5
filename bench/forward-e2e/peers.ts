/**
 * The processes of the store-and-forward benchmark, each in its own process:
 * weir (the real CLI), bare aedes (bench/aedes-server.ts), and the upstreams
 * through the same scripts the tests use (test/services/kafka.sh and
 * victoria-metrics.sh), so an outage is the real server stopping. Only the
 * children started here are ever signalled; a crashed run stops them on exit.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Admin, Consumer } from '@platformatic/kafka';

const run = promisify(execFile);
const STARTUP_MS = 30_000;

const children = new Set<ChildProcess>();
const cleanups = new Set<() => void>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const f of cleanups) f();
});

// ── weir and aedes ───────────────────────────────────────────────────────────
export interface NodeServer {
  readonly pid: number;
  readonly mqttPort: number;
  /** weir only. */
  readonly httpPort: number | undefined;
  stop(): Promise<void>;
}

/** weir as `node <launcher> start --config <dir>/weir.yaml` (Node flags if given), JSON logs on stdout. */
export async function startWeir(o: { launcher: string; dir: string; yaml: string; nodeFlags?: readonly string[] }): Promise<NodeServer> {
  const config = join(o.dir, 'weir.yaml');
  writeFileSync(config, o.yaml);
  // no flags by default, as bin/weir.js and deploy/ run it
  const flags = o.nodeFlags ?? [];
  const child = track(spawn(process.execPath, [...flags, o.launcher, 'start', '--config', config], { cwd: o.dir, stdio: ['ignore', 'pipe', 'pipe'] }));
  let mqttPort: number | undefined;
  let httpPort: number | undefined;
  await waitForLine(child, 'weir', (line) => {
    const e = parseJson(line);
    if (e?.msg === 'MQTT listener open.' && e.listener === 'tcp') mqttPort = Number(e.port);
    if (e?.msg === 'HTTP endpoints open.') httpPort = Number(e.port);
    if (typeof e?.level === 'number' && e.level >= 50) process.stderr.write(`weir: ${line}\n`);
    return e?.msg === 'weir is running.';
  });
  if (!mqttPort || !httpPort) throw new Error('weir started without reporting its MQTT and HTTP ports');
  return { pid: child.pid!, mqttPort, httpPort, stop: () => stopChild(child) };
}

/** bench/aedes-server.js: aedes with weir's broker settings and nothing else. */
export async function startAedes(script: string, dir: string): Promise<NodeServer> {
  const child = track(spawn(process.execPath, [script], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }));
  let port: number | undefined;
  await waitForLine(child, 'aedes', (line) => {
    port = parseJson(line)?.port as number | undefined;
    return port !== undefined;
  });
  return { pid: child.pid!, mqttPort: port!, httpPort: undefined, stop: () => stopChild(child) };
}

// ── upstreams ────────────────────────────────────────────────────────────────
export interface Upstream {
  /** A server outage: the process stops, data and ports stay. */
  halt(): Promise<void>;
  /** Back on the same port with the same data; resolves once it accepts work. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export interface Kafka extends Upstream {
  readonly bootstrap: string;
  createTopic(topic: string, partitions: number): Promise<void>;
  /** Records in the topic: the sum of its partitions' high watermarks. */
  count(topic: string): Promise<number>;
}

export async function startKafka(root: string, dir: string): Promise<Kafka> {
  const script = join(root, 'test', 'services', 'kafka.sh');
  // full JIT for a benchmark (the script's default favours a quick start), and a watchdog tied to this process
  const env = { ...process.env, KAFKA_OWNER_PID: String(process.pid), KAFKA_JVM_OPTS: '-XX:+UseSerialGC' };
  const call = (cmd: string) => run('bash', [script, cmd, dir], { env, timeout: 600_000, maxBuffer: 16 << 20 });
  const { stdout } = await call('start');
  const bootstrap = stdout.trim().split('\n').at(-1)!;
  const stopSync = () => {
    try {
      execFileSync('bash', [script, 'stop', dir], { env, stdio: 'ignore', timeout: 60_000 });
    } catch {
      // best effort at exit; the script's own watchdog also stops it
    }
  };
  cleanups.add(stopSync);
  const admin = new Admin({ clientId: 'weir-bench-admin', bootstrapBrokers: [bootstrap] });
  return {
    bootstrap,
    async createTopic(topic, partitions) {
      await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
    },
    count: (topic) => countWithConsumer(bootstrap, topic),
    halt: async () => void (await call('halt')),
    resume: async () => void (await call('start')),
    async stop() {
      await admin.close().catch(() => undefined);
      await call('stop');
      cleanups.delete(stopSync);
    },
  };
}

async function countWithConsumer(bootstrap: string, topic: string): Promise<number> {
  const consumer = new Consumer({ clientId: 'weir-bench-count', groupId: `weir-bench-${process.hrtime.bigint()}`, bootstrapBrokers: [bootstrap] });
  try {
    const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
    return ends.reduce((n: number, e: bigint) => n + Number(e), 0);
  } finally {
    await consumer.close();
  }
}

export interface Victoria extends Upstream {
  readonly url: string;
  /** Samples stored for series matching `selector` over the last `window` (after a flush). */
  count(selector: string, window: string): Promise<number>;
}

export async function startVictoria(root: string, state: string): Promise<Victoria> {
  const script = join(root, 'test', 'services', 'victoria-metrics.sh');
  const call = (cmd: string) => run('bash', [script, cmd, state], { timeout: 300_000 });
  const { stdout } = await call('start');
  const url = `http://127.0.0.1:${Number(stdout.trim())}`;
  const stopSync = () => {
    try {
      execFileSync('bash', [script, 'stop', state], { stdio: 'ignore', timeout: 30_000 });
    } catch {
      // best effort at exit
    }
  };
  cleanups.add(stopSync);
  return {
    url,
    async count(selector, window) {
      await fetch(`${url}/internal/force_flush`);
      const q = new URLSearchParams({ query: `sum(count_over_time(${selector}[${window}]))` });
      const body = (await (await fetch(`${url}/api/v1/query?${q}`)).json()) as { data?: { result?: { value?: [number, string] }[] } };
      return Number(body.data?.result?.[0]?.value?.[1] ?? 0);
    },
    halt: async () => void (await call('halt')),
    resume: async () => void (await call('resume')),
    async stop() {
      await call('stop');
      cleanups.delete(stopSync);
    },
  };
}

// ── process plumbing ─────────────────────────────────────────────────────────
function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function waitForLine(child: ChildProcess, name: string, done: (line: string) => boolean): Promise<void> {
  let tail = '';
  child.stderr!.on('data', (c: Buffer) => (tail = (tail + c.toString()).slice(-2000)));
  return new Promise((resolve, reject) => {
    let ready = false;
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${STARTUP_MS} ms: ${tail}`)), STARTUP_MS);
    // keep reading after ready, so a full pipe never blocks the child
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const last = done(line);
      if (!ready && last) {
        ready = true;
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`${name} exited (${code ?? signal}) before it was ready: ${tail}`));
    });
  });
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(line);
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
