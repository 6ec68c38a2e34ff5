/**
 * `weir doctor`: what this gateway can reach on this board, in plain words.
 * Config and rules validity, the board probes of gateway/doctor (serial,
 * GPIO, data dir, clock), whether the MQTT and HTTP ports can be bound, and
 * whether each upstream answers on TCP.
 */
import net from 'node:net';
import { dirname, resolve } from 'node:path';
import { loadConfigFile, loadDefaultConfig } from '../config/load.js';
import { formatProblem } from '../core/yaml-source.js';
import { runDoctor, formatFindings, exitCodeFor, type Finding } from '../doctor/index.js';
import type { WeirConfig } from '../config/schema.js';

export async function runDoctorCommand(options: { config?: string; json?: boolean }, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const findings: Finding[] = [];
  const result = options.config ? loadConfigFile(options.config) : loadDefaultConfig();
  let config: WeirConfig | undefined;
  let baseDir = process.cwd();
  if (result.ok) {
    config = result.loaded.config;
    if (options.config) baseDir = dirname(resolve(options.config));
    findings.push({ check: 'config', status: 'ok', detail: `${options.config ?? 'embedded defaults'}: valid, ${result.loaded.rules.length} rule(s), ${result.loaded.profiles.length} profile(s)` });
  } else {
    findings.push(...result.problems.map((p) => ({ check: 'config', status: 'fail' as const, detail: formatProblem(p) })));
  }
  if (config) {
    findings.push(
      ...runDoctor({
        dataDir: resolve(baseDir, config.gateway.dataDir),
        serialPaths: config.serial.map((p) => p.path),
        gpioPins: config.gpio.pins.length,
        ...(config.gpio.chip ? { gpioChip: config.gpio.chip } : {}),
      }),
    );
    findings.push(...(await probeListeners(config)), ...(await probeUpstreams(config)));
  }
  const order = { fail: 0, warn: 1, ok: 2 } as const;
  findings.sort((a, b) => order[a.status] - order[b.status]);
  out.write(options.json ? `${JSON.stringify({ findings }, null, 2)}\n` : `${formatFindings(findings)}\n`);
  return exitCodeFor(findings);
}

async function probeListeners(config: WeirConfig): Promise<Finding[]> {
  const wanted: [string, string, number][] = [];
  if (config.broker.enabled) {
    for (const name of ['tcp', 'ws', 'tls'] as const) {
      const l = config.broker.listeners[name];
      if (l.enabled) wanted.push([`listen.mqtt-${name}`, l.host, l.port]);
    }
  }
  if (config.http.enabled) wanted.push(['listen.http', config.http.host, config.http.port]);
  return Promise.all(
    wanted.map(async ([check, host, port]) => {
      const error = await canBind(host, port);
      return error
        ? { check, status: 'fail' as const, detail: `cannot bind ${host}:${port}: ${error} (another broker or a running weir?)` }
        : { check, status: 'ok' as const, detail: `${host}:${port} is free` };
    }),
  );
}

function canBind(host: string, port: number): Promise<string | undefined> {
  return new Promise((done) => {
    const server = net.createServer();
    server.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    server.listen(port, host, () => server.close(() => done(undefined)));
  });
}

/** TCP reachability of each sink and external broker; credentials are checked by the running gateway. */
async function probeUpstreams(config: WeirConfig): Promise<Finding[]> {
  const targets: [string, string][] = [];
  for (const sink of config.sinks) {
    if (sink.kind === 'kafka') for (const b of sink.brokers) targets.push([`upstream.${sink.name}`, `tcp://${b}`]);
    else targets.push([`upstream.${sink.name}`, sink.url]);
  }
  for (const ext of config.ingest.external) targets.push([`upstream.${ext.name}`, ext.url]);
  return Promise.all(
    targets.map(async ([check, url]) => {
      const { hostname, port } = new URL(url);
      const p = Number(port) || defaultPort(url);
      const error = await canConnect(hostname, p, 2000);
      return error
        ? { check, status: 'warn' as const, detail: `${hostname}:${p} unreachable (${error}); weir buffers until it is back` }
        : { check, status: 'ok' as const, detail: `${hostname}:${p} answers` };
    }),
  );
}

function defaultPort(url: string): number {
  const scheme = url.split(':')[0];
  return ({ mqtt: 1883, tcp: 1883, mqtts: 8883, tls: 8883, ws: 80, wss: 443, http: 80, https: 443 } as Record<string, number>)[scheme ?? ''] ?? 0;
}

function canConnect(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((done) => {
    const socket = net.connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => (socket.destroy(), done(undefined)));
    socket.once('timeout', () => (socket.destroy(), done('timed out')));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}
