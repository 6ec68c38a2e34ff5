/**
 * The `weir` command line as an operator runs it: `node bin/weir.js` in a
 * child process (the compiled dist/), talked to over its exit code, stdout,
 * stderr, signals and the sockets it opens.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startTestGateway, type TestGateway } from './lib/gateway.js';
import { client, eventually, metricValue } from './lib/mqtt.js';
import { exited, freePort, killChild, portIsClosed, run } from './lib/processes.js';

const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'bin', 'weir.js');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

interface Outcome {
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node bin/weir.js ...args` to completion (bounded), feeding `input` on stdin. */
function weir(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<Outcome> {
  const child = spawn(process.execPath, [bin, ...args], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(options.input ?? '');
  return exited(child, options.timeoutMs ?? 15_000).then(
    (code) => ({ code, stdout, stderr }),
    async (e: Error) => {
      await killChild(child);
      throw new Error(`${e.message}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
    },
  );
}

/** pino's JSON lines (stdout is not a terminal, so `log.pretty: auto` gives JSON). */
function logLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

let dir: string;
const children: ChildProcess[] = [];
let gw: TestGateway | undefined;

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'gateway', 'cli', 'main.js'))) {
    throw new Error('dist/gateway/cli/main.js is missing: the CLI runs the compiled code. Run `npx tsc -p tsconfig.json` (or `npm test`, which builds first).');
  }
  dir = mkdtempSync(join(tmpdir(), 'weir-cli-'));
});
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => killChild(c)));
  await gw?.dispose();
  gw = undefined;
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('weir --version and weir schema', () => {
  it('--version prints the version in package.json', async () => {
    const r = await weir(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('schema prints the JSON Schema of weir.yaml, closed to unknown keys', async () => {
    const r = await weir(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as { additionalProperties?: unknown; properties?: Record<string, { additionalProperties?: unknown; properties?: Record<string, unknown> }> };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties?.broker).toBeDefined();
    expect(schema.properties?.broker?.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties?.broker?.properties ?? {})).toEqual(expect.arrayContaining(['listeners', 'auth', 'limits']));
  });
});

describe('weir check', () => {
  it('exits 0 on a valid file', async () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, ['broker:', '  listeners:', '    tcp: { host: 127.0.0.1, port: 11883 }', 'http:', '  port: 18080', ''].join('\n'));
    const r = await weir(['check', '--config', good]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${good}: ok`);
  });

  it('exits 1 and reports every problem in the file as file:line:col: message on stderr', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, ['broker:', '  limits:', '    maxConections: 10', 'http:', '  port: "eighty"', ''].join('\n'));
    const r = await weir(['check', '--config', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      `${bad}:3:5: broker.limits.maxConections: unknown key`,
      `${bad}:5:9: http.port: expected integer`,
      `${bad}: 2 problem(s)`,
    ]);
  });

  it('exits 1 on a file that does not exist, naming it', async () => {
    const missing = join(dir, 'nope.yaml');
    const r = await weir(['check', '--config', missing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1:1: cannot read file`));
  });
});

describe('weir start', () => {
  /** Spawns a long-running `weir start` and records it for cleanup. */
  function startWeir(args: string[]) {
    const child = spawn(process.execPath, [bin, 'start', ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const out = { stdout: '', stderr: '' };
    child.stdout!.on('data', (d: Buffer) => (out.stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out.stderr += d.toString()));
    return { child, out };
  }

  it('runs on flags alone, ingests a mosquitto_pub reading, and stops cleanly with exit 0 on SIGTERM', async () => {
    const httpPort = await freePort();
    const dataDir = mkdtempSync(join(dir, 'data-'));
    // port 0 is accepted for the broker: the kernel picks one and the log says which
    const { child, out } = startWeir(['--mqtt-port', '0', '--http-port', String(httpPort), '--data-dir', dataDir]);
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    await eventually(
      async () => (child.exitCode === null ? (await fetch(`${httpUrl}/healthz`).catch(() => undefined))?.status === 200 : Promise.reject(new Error(`weir exited ${child.exitCode}:\n${out.stderr}${out.stdout}`))),
      15_000,
      'weir start to answer /healthz',
    );
    const listener = logLines(out.stdout).find((l) => l.msg === 'MQTT listener open.' && l.listener === 'tcp');
    const mqttPort = Number(listener?.port);
    expect(mqttPort).toBeGreaterThan(0);
    expect(mqttPort).not.toBe(1883);
    expect(await metricValue(httpUrl, 'weir_readings_total')).toBe(0);

    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(mqttPort), '-q', '1', '-t', 'weir/cli-dev/telemetry', '-m', '{"temp":20.5}'], { timeout: 10_000 });
    await eventually(async () => (await metricValue(httpUrl, 'weir_readings_total')) === 1, 5000, 'the reading in /metrics');
    // the data dir flag was honoured: the broker keeps its state there
    expect(existsSync(join(dataDir, 'broker'))).toBe(true);

    const t = Date.now();
    child.kill('SIGTERM');
    expect(await exited(child, 10_000)).toBe(0);
    expect(Date.now() - t).toBeLessThan(10_000);
    expect(logLines(out.stdout).map((l) => l.msg)).toContain('Stopped cleanly.');
    expect(await portIsClosed(mqttPort)).toBe(true);
    expect(await portIsClosed(httpPort)).toBe(true);
  });

  it('exits 1 on an invalid config without opening any listener', async () => {
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const bad = join(dir, 'bad-start.yaml');
    writeFileSync(
      bad,
      ['broker:', '  listeners:', `    tcp: { host: 127.0.0.1, port: ${mqttPort} }`, '  limits:', '    maxConnections: 0', 'http:', `  port: ${httpPort}`, '  bogus: true', ''].join('\n'),
    );
    const { child, out } = startWeir(['--config', bad]);
    expect(await exited(child, 10_000)).toBe(1);
    expect(out.stderr).toContain(`${bad}:5:21: broker.limits.maxConnections:`);
    expect(out.stderr).toContain(`${bad}:8:3: http.bogus: unknown key`);
    expect(out.stderr).toContain('not starting');
    expect(out.stdout).not.toMatch(/listener open|HTTP endpoints open|weir is running/);
    expect(await portIsClosed(mqttPort)).toBe(true);
    expect(await portIsClosed(httpPort)).toBe(true);
  });

  it('exits 1 with the reason when its HTTP port is taken, instead of running half-started', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    const taken = (holder.address() as net.AddressInfo).port;
    const mqttPort = await freePort();
    try {
      const dataDir = mkdtempSync(join(dir, 'data-'));
      const cfg = join(dir, 'taken.yaml');
      writeFileSync(cfg, ['broker:', '  listeners:', '    tcp: { host: 127.0.0.1, port: 0 }', 'http:', '  host: 127.0.0.1', ''].join('\n'));
      const { child, out } = startWeir(['--config', cfg, '--mqtt-port', String(mqttPort), '--http-port', String(taken), '--data-dir', dataDir]);
      expect(await exited(child, 10_000)).toBe(1);
      expect(out.stdout).toContain(`could not start: cannot listen for HTTP on 127.0.0.1:${taken}`);
      // the broker had opened its port before HTTP failed; exiting must not leave it to a stray child
      expect(await portIsClosed(mqttPort)).toBe(true);
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });
});

describe('weir users add', () => {
  it('reads the password from stdin into a 0600 users file that the broker then enforces', async () => {
    const usersFile = join(dir, 'users');
    const r = await weir(['users', 'add', '--file', usersFile, 'alice'], { input: 'correct horse\n' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(statSync(usersFile).mode & 0o777).toBe(0o600);
    const lines = readFileSync(usersFile, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^alice:\$scrypt\$/);
    expect(lines[0]).not.toContain('correct horse');

    gw = await startTestGateway(
      ['broker:', '  listeners:', '    tcp: { host: 127.0.0.1, port: 0 }', '  auth:', '    anonymous: never', `    usersFile: ${JSON.stringify(usersFile)}`].join('\n'),
    );
    const alice = await client(gw.mqttUrl, { username: 'alice', password: 'correct horse' });
    expect(alice.connected).toBe(true);
    await alice.endAsync();
    const refused = await client(gw.mqttUrl, { username: 'alice', password: 'wrong horse' }).then(
      async (c) => (await c.endAsync(), undefined),
      (e: { code?: number }) => e,
    );
    expect(refused?.code).toBe(4); // CONNACK 0x04: bad user name or password
    const anonymous = await client(gw.mqttUrl).then(
      async (c) => (await c.endAsync(), undefined),
      (e: { code?: number }) => e,
    );
    expect(anonymous?.code).toBe(5); // CONNACK 0x05: not authorized
  });

  it('refuses an empty password on stdin and writes no file', async () => {
    const usersFile = join(dir, 'users-empty');
    const r = await weir(['users', 'add', '--file', usersFile, 'bob'], { input: '\n' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('empty password');
    expect(existsSync(usersFile)).toBe(false);
  });
});
