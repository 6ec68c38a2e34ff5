/**
 * The systems under test, each in processes of its own, on loopback ports the
 * kernel hands out (never 1883):
 *  - weir: the gateway CLI with one threshold rule; readings in, alerts out on
 *    its embedded broker (one hop);
 *  - Node-RED 4 + Mosquitto: mqtt in → switch (temp > 80) → change → mqtt out,
 *    both ends on Mosquitto (two hops);
 *  - Mosquitto alone, subscriber on the telemetry topic: the floor, what the
 *    harness and a broker do with no processing at all.
 * Both systems do the same work per reading: parse the JSON, judge `temp > 80`,
 * build an alert and publish it, QoS 0, no retained copy, no per-message log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';

export type SystemName = 'weir' | 'node-red' | 'mosquitto';

export interface RunningSystem {
  readonly name: SystemName;
  /** Where the load goes and where alerts come from. */
  readonly port: number;
  /** What the subscriber subscribes to. */
  readonly alertFilter: string;
  /** The JSON field of an alert that carries the reading's value. */
  readonly valueField: string;
  /** Processes whose memory is sampled (Node-RED: Node-RED and its Mosquitto). */
  readonly pids: Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

export const ALERT_RULE = `rules:
  - id: temp-high
    kind: threshold
    metric: temp
    when: value > 80
    message: "{device}: temp {value}"
`;

const STARTUP_MS = 30_000;
const live = new Set<ChildProcess>();
// an interrupted run must not leave children behind
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** `onStdout`: the gateway's standard output line by line (V8's --trace-gc-nvp writes there); ignored otherwise. */
export async function startWeir(dir: string, weirBin: string, nodeFlags: readonly string[], onStdout?: (line: string) => void): Promise<RunningSystem> {
  const [port, httpPort] = [await freePort(), await freePort()];
  writeFileSync(join(dir, 'rules.yaml'), ALERT_RULE);
  writeFileSync(
    join(dir, 'weir.yaml'),
    [
      'gateway: { id: bench, dataDir: ./data }',
      // alerts are logged at info; Node-RED logs nothing per message either
      'log: { level: warn, pretty: false }',
      `broker: { listeners: { tcp: { host: 127.0.0.1, port: ${port} } } }`,
      `http: { host: 127.0.0.1, port: ${httpPort} }`,
      'ingest: { republish: { enabled: false } }',
      'rules: { files: [rules.yaml], watch: false, alerts: { retainState: false, qos: 0 } }',
      '',
    ].join('\n'),
  );
  const child = track(spawn(process.execPath, [...nodeFlags, weirBin, 'start', '--config', join(dir, 'weir.yaml')], { cwd: dir, stdio: ['ignore', onStdout ? 'pipe' : 'ignore', 'pipe'] }));
  if (onStdout) createInterface({ input: child.stdout! }).on('line', onStdout);
  const tail = keepTail(child);
  await until(async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`).catch(() => undefined))?.status === 200, child, () => `weir did not become ready: ${tail()}`);
  return { name: 'weir', port, alertFilter: 'weir/alerts/temp-high/+', valueField: 'value', pids: { weir: child.pid! }, stop: () => stopChild(child) };
}

export async function startMosquitto(dir: string): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'set_tcp_nodelay true', 'persistence false', 'log_dest stderr', 'log_type error', ''].join('\n'));
  const child = track(spawn('/usr/sbin/mosquitto', ['-c', conf], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] }));
  const tail = keepTail(child);
  await until(() => accepts(port), child, () => `mosquitto did not start: ${tail()}`);
  return { port, pid: child.pid!, stop: () => stopChild(child) };
}

/** The floor: Mosquitto alone, the subscriber takes the telemetry itself. */
export async function startFloor(dir: string): Promise<RunningSystem> {
  const m = await startMosquitto(dir);
  return { name: 'mosquitto', port: m.port, alertFilter: 'weir/+/telemetry', valueField: 'temp', pids: { mosquitto: m.pid }, stop: m.stop };
}

/** Node-RED's own entry point, in the separate install (never in this repository's dependencies). */
export function nodeRedEntry(prefix: string): string | undefined {
  const red = join(prefix, 'node_modules/node-red/red.js');
  return existsSync(red) ? red : undefined;
}

export async function startNodeRed(dir: string, red: string): Promise<RunningSystem> {
  const broker = await startMosquitto(dir);
  const uiPort = await freePort();
  writeFileSync(join(dir, 'flows.json'), JSON.stringify(flow(broker.port), null, 2));
  // headless: no editor, no admin API, no per-message logging
  writeFileSync(
    join(dir, 'settings.js'),
    `module.exports = { uiHost: '127.0.0.1', uiPort: ${uiPort}, httpAdminRoot: false, httpNodeRoot: false, flowFile: 'flows.json',
  credentialSecret: false, userDir: ${JSON.stringify(dir)}, logging: { console: { level: 'info', metrics: false, audit: false } },
  telemetry: { enabled: false }, diagnostics: { enabled: false }, runtimeState: { enabled: false } };\n`,
  );
  const child = track(spawn(process.execPath, [red, '--settings', join(dir, 'settings.js'), '--userDir', dir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }));
  const tail = keepTail(child);
  let connected = 0;
  const out = createInterface({ input: child.stdout! });
  out.on('line', (line) => {
    if (/Connected to broker/i.test(line)) connected++;
  });
  await until(async () => connected > 0, child, () => `Node-RED did not connect to its broker: ${tail()}`);
  return {
    name: 'node-red',
    port: broker.port,
    alertFilter: 'nodered/alerts/#',
    valueField: 'temp',
    pids: { 'node-red': child.pid!, mosquitto: broker.pid },
    async stop() {
      await stopChild(child);
      await broker.stop();
    },
  };
}

/** mqtt in → switch (temp > 80, otherwise) → change (topic, state) → mqtt out. */
function flow(port: number): object[] {
  // ids unlike any property value: Node-RED takes a property equal to a node id for a reference to it
  const change = (id: string, state: string) => ({
    id, type: 'change', z: 'f0bench', name: `set ${state}`,
    rules: [
      { t: 'set', p: 'topic', pt: 'msg', to: 'nodered/alerts/temp-high', tot: 'str' },
      { t: 'set', p: 'payload.state', pt: 'msg', to: state, tot: 'str' },
    ],
    wires: [['n4out']],
  });
  return [
    { id: 'f0bench', type: 'tab', label: 'alerts bench' },
    {
      id: 'c0broker', type: 'mqtt-broker', name: 'mosquitto', broker: '127.0.0.1', port: String(port), clientid: '', autoConnect: true,
      usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true,
    },
    { id: 'n1in', type: 'mqtt in', z: 'f0bench', name: 'telemetry', topic: 'weir/+/telemetry', qos: '0', datatype: 'json', broker: 'c0broker', nl: false, rap: true, rh: 0, inputs: 0, wires: [['n2switch']] },
    {
      id: 'n2switch', type: 'switch', z: 'f0bench', name: 'temp > 80', property: 'payload.temp', propertyType: 'msg',
      rules: [{ t: 'gt', v: '80', vt: 'num' }, { t: 'else' }], checkall: 'false', repair: false, outputs: 2, wires: [['n3raise'], ['n3clear']],
    },
    change('n3raise', 'raise'),
    change('n3clear', 'clear'),
    { id: 'n4out', type: 'mqtt out', z: 'f0bench', name: 'alerts', topic: '', qos: '0', retain: 'false', broker: 'c0broker', wires: [] },
  ];
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

async function until(ready: () => Promise<boolean> | boolean, child: ChildProcess, why: () => string): Promise<void> {
  const deadline = Date.now() + STARTUP_MS;
  while (!(await ready())) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(why());
    await new Promise((r) => setTimeout(r, 50));
  }
}

function keepTail(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-2000);
  });
  return () => text.trim() || '(no stderr)';
}

/** A port the kernel just handed out and took back. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}
