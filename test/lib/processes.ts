/**
 * Real third-party peers for integration tests: free loopback ports, a
 * Mosquitto child process, a throwaway self-signed certificate, and waiting
 * for a child to exit or print a line. Every process started here is ended
 * by the returned handle; none is found or killed by name.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sleep } from './mqtt.js';

export const run = promisify(execFile);

/**
 * A port the kernel just handed out on 127.0.0.1 and nobody holds now. Never
 * 1883 (a system Mosquitto holds it here), which the ephemeral range excludes anyway.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const p = (server.address() as net.AddressInfo).port;
        server.close(() => resolve(p));
      });
    });
    if (port !== 1883) return port;
  }
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => (s.destroy(), resolve(false)));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing accepted connections on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

/** True if nothing accepts TCP connections on 127.0.0.1:port right now. */
export function portIsClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => (s.destroy(), resolve(true)));
  });
}

/** Resolves with the exit code (or signal name) once the child has exited; rejects after timeoutMs. */
export function exited(child: ChildProcess, timeoutMs: number): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`pid ${child.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => (clearTimeout(t), resolve(code ?? signal ?? -1)));
  });
}

/** Sends SIGKILL to this child if it is still running, and waits for it to go. */
export async function killChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await exited(child, 5000).catch(() => undefined);
}

export interface Mosquitto {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything it printed, for failure messages. */
  output(): string;
  /** SIGTERM, then waits for exit; the port is free afterwards. */
  stop(): Promise<void>;
  /** A new mosquitto on the same port and config, once the old one has stopped. */
  restart(): Promise<void>;
  /** Stops it and removes its config dir. */
  dispose(): Promise<void>;
}

/** Starts /usr/sbin/mosquitto on a free loopback port (anonymous, no persistence) and waits until it accepts connections. */
export async function startMosquitto(port?: number): Promise<Mosquitto> {
  const p = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'weir-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [`listener ${p} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', 'log_type notice', ...(process.env.WEIR_TEST_MOSQUITTO_LOG === 'all' ? ['log_type all'] : []), ''].join('\n'));
  let log = '';
  let child!: ChildProcess;
  const launch = async () => {
    child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const died = exited(child, 5000).then(
      (code) => Promise.reject(new Error(`mosquitto exited (${code}) before listening:\n${log}`)),
      () => undefined,
    );
    await Promise.race([waitForPort(p, 5000), died]);
  };
  await launch().catch(async (e: unknown) => {
    await killChild(child);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited(child, 5000).catch(() => killChild(child));
  };
  return {
    port: p,
    url: `mqtt://127.0.0.1:${p}`,
    get child() {
      return child;
    },
    output: () => log,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SelfSignedCert {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
  dispose(): void;
}

/** A one-day self-signed certificate for CN=localhost, made by openssl into a temp dir. */
export async function selfSignedCert(): Promise<SelfSignedCert> {
  const dir = mkdtempSync(join(tmpdir(), 'weir-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  // subjectAltName too: Node checks a certificate's host against SANs, and mosquitto_pub's OpenSSL does as well
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '1', '-keyout', keyFile, '-out', certFile], { timeout: 30_000 });
  return { dir, certFile, keyFile, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
