/**
 * `weir doctor`: what this gateway can reach on this board, in plain words.
 * Config and rules validity, the board probes of gateway/doctor (serial,
 * GPIO, data dir, clock), whether the MQTT and HTTP ports can be bound, and
 * whether each upstream answers and accepts the configured credentials.
 */
import net from 'node:net';
import { dirname, resolve } from 'node:path';
import { existsSync, statfsSync } from 'node:fs';
import { parseSize } from '../core/units.js';
import { loadConfigFile, loadDefaultConfig } from '../config/load.js';
import { formatProblem } from '../core/yaml-source.js';
import { runDoctor, formatFindings, exitCodeFor, type Finding } from '../doctor/index.js';
import { probeUpstreams } from './doctor-upstreams.js';
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
    findings.push(budgetFinding(config, resolve(baseDir, config.gateway.dataDir)));
    findings.push(...(await probeListeners(config)), ...(await probeUpstreams(config)));
  }
  const order = { fail: 0, warn: 1, ok: 2 } as const;
  findings.sort((a, b) => order[a.status] - order[b.status]);
  out.write(options.json ? `${JSON.stringify({ findings }, null, 2)}\n` : `${formatFindings(findings)}\n`);
  return exitCodeFor(findings);
}

/** The buffer's disk budget must fit in what the data directory's filesystem has free. */
function budgetFinding(config: WeirConfig, dataDir: string): Finding {
  const budget = parseSize(config.buffer.maxBytes);
  let dir = dataDir;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  const fs = statfsSync(dir);
  const free = fs.bavail * fs.bsize;
  const mib = (n: number) => `${Math.round(n / 2 ** 20)} MiB`;
  if (config.sinks.length === 0) return { check: 'data-dir.budget', status: 'ok', detail: `no sinks configured, so no buffer; ${mib(free)} free` };
  return free >= budget
    ? { check: 'data-dir.budget', status: 'ok', detail: `buffer budget ${mib(budget)} fits in ${mib(free)} free` }
    : { check: 'data-dir.budget', status: 'warn', detail: `buffer budget ${mib(budget)} is more than the ${mib(free)} free: the disk fills before the budget's drop policy applies` };
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
