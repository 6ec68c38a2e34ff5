/**
 * The brokers under test, each in its own process so each gets its own event
 * loop, heap and RSS: weir (the real CLI with its default config), bare aedes
 * (in-memory persistence, or the same LevelDB persistence package weir uses),
 * and Mosquitto. Every one listens on 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';

export type BrokerKind = 'weir' | 'weir-no-republish' | 'aedes' | 'aedes-level' | 'mosquitto';
export const BROKER_KINDS: readonly BrokerKind[] = ['weir', 'weir-no-republish', 'aedes', 'aedes-level', 'mosquitto'];
/** weir-no-republish is a diagnostic: it splits weir's cost into decoding and republishing. */
export const DEFAULT_BROKERS: readonly BrokerKind[] = ['weir', 'aedes', 'aedes-level', 'mosquitto'];

export interface RunningBroker {
  readonly kind: BrokerKind;
  readonly pid: number;
  readonly port: number;
  /** weir's HTTP port, for /metrics. */
  readonly httpPort: number | undefined;
  /** What the counting subscriber subscribes to: weir's republished readings, else the raw telemetry. */
  readonly filter: string;
  /** True when deliveries are weir reading records rather than the published bytes. */
  readonly republishes: boolean;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly root: string; // the repository
  readonly dir: string; // a scratch directory for this broker
  /** Node brokers only: run under `node --cpu-prof`, writing the profile here on exit. */
  readonly cpuProfDir?: string | undefined;
  /** V8/Node flags for the Node brokers (weir and both aedes), e.g. from `entryNodeFlags`. */
  readonly nodeFlags: readonly string[];
}

/**
 * The Node flags weir's entry point runs with: its shebang's (`#!/usr/bin/env -S node --flag`),
 * which deploy/dev/start.sh repeats. Spawning `node bin/weir.js` would otherwise drop them.
 */
export function entryNodeFlags(root: string): string[] {
  const first = readFileSync(join(root, 'bin/weir.js'), 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\S*env\s+-S\s+node\s+(.*)$/.exec(first.trim());
  return m?.[1] ? m[1].split(/\s+/).filter((f) => f.startsWith('--')) : [];
}

const STARTUP_TIMEOUT_MS = 20_000;
const live = new Set<ChildProcess>();
// a crashed or interrupted run must not leave brokers behind
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export function startBroker(kind: BrokerKind, o: StartOptions): Promise<RunningBroker> {
  switch (kind) {
    case 'weir':
    case 'weir-no-republish':
      return startWeir(kind, o);
    case 'aedes':
    case 'aedes-level':
      return startAedes(kind, o);
    case 'mosquitto':
      return startMosquitto(o);
  }
}

async function startWeir(kind: 'weir' | 'weir-no-republish', o: StartOptions): Promise<RunningBroker> {
  // The embedded defaults, except: loopback only, ports chosen by the kernel, a scratch data dir.
  const republish = kind === 'weir';
  const config = join(o.dir, 'weir.yaml');
  writeFileSync(
    config,
    [
      'gateway: { id: bench, dataDir: data }',
      'log: { level: info, pretty: false }',
      'broker: { listeners: { tcp: { host: 127.0.0.1, port: 0 } } }',
      'http: { host: 127.0.0.1, port: 0 }',
      ...(republish ? [] : ['ingest: { republish: { enabled: false } }']),
      '',
    ].join('\n'),
  );
  const child = track(spawn(process.execPath, [...profFlags(o), join(o.root, 'bin/weir.js'), 'start', '--config', config], { cwd: o.dir, stdio: ['ignore', 'pipe', 'pipe'] }));
  let port: number | undefined;
  let httpPort: number | undefined;
  await waitForLine(child, kind, (line) => {
    const entry = parseJson(line);
    if (entry?.msg === 'MQTT listener open.' && entry.listener === 'tcp') port = Number(entry.port);
    if (entry?.msg === 'HTTP endpoints open.') httpPort = Number(entry.port);
    return entry?.msg === 'weir is running.';
  });
  if (!port) throw new Error(`${kind} started without reporting its MQTT port`);
  // Without republishing, the subscriber counts the raw telemetry the broker delivers after ingestion.
  return republish ? running(kind, child, port, httpPort, 'weir/readings/#', true) : running(kind, child, port, httpPort, 'weir/+/telemetry', false);
}

async function startAedes(kind: 'aedes' | 'aedes-level', o: StartOptions): Promise<RunningBroker> {
  const script = join(o.root, 'dist/bench/aedes-server.js');
  const args = kind === 'aedes-level' ? ['--persistence', 'level', '--dir', join(o.dir, 'store')] : [];
  const child = track(spawn(process.execPath, [...profFlags(o), script, ...args], { cwd: o.dir, stdio: ['ignore', 'pipe', 'pipe'] }));
  let port: number | undefined;
  await waitForLine(child, kind, (line) => {
    port = parseJson(line)?.port as number | undefined;
    return port !== undefined;
  });
  return running(kind, child, port!, undefined, 'weir/+/telemetry', false);
}

async function startMosquitto(o: StartOptions): Promise<RunningBroker> {
  const port = await freePort();
  const conf = join(o.dir, 'mosquitto.conf');
  // Defaults otherwise; TCP_NODELAY as weir and the aedes server set it, in-memory only.
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'set_tcp_nodelay true', 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', ''].join('\n'));
  const child = track(spawn('/usr/sbin/mosquitto', ['-c', conf], { cwd: o.dir, stdio: ['ignore', 'pipe', 'pipe'] }));
  child.stdout?.resume();
  const tail = keepTail(child);
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`mosquitto did not start: ${tail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return running('mosquitto', child, port, undefined, 'weir/+/telemetry', false);
}

function profFlags(o: StartOptions): string[] {
  return [...o.nodeFlags, ...(o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : [])];
}

function running(kind: BrokerKind, child: ChildProcess, port: number, httpPort: number | undefined, filter: string, republishes: boolean): RunningBroker {
  return {
    kind,
    pid: child.pid!,
    port,
    httpPort,
    filter,
    republishes,
    stop: () => stopChild(child),
  };
}

function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Reads the child's stdout line by line until `done` says so; keeps draining afterwards. */
function waitForLine(child: ChildProcess, name: string, done: (line: string) => boolean): Promise<void> {
  const tail = keepTail(child);
  return new Promise((resolve, reject) => {
    let ready = false;
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${STARTUP_TIMEOUT_MS} ms: ${tail()}`)), STARTUP_TIMEOUT_MS);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!ready && done(line)) {
        ready = true;
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`${name} exited (${code ?? signal}) before it was ready: ${tail()}`));
    });
  });
}

function keepTail(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-2000);
  });
  return () => text.trim() || '(no stderr)';
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(line);
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A port the kernel just handed out and took back: free for the broker about to bind it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}
