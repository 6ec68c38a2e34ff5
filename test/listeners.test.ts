/**
 * The WebSocket and TLS listeners of the embedded broker over real sockets:
 * MQTT.js over ws:// and mqtts://, and Debian's mosquitto_pub over TLS with a
 * certificate openssl makes at test time.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from './lib/gateway.js';
import { client, collector, metricValue } from './lib/mqtt.js';
import { run, selfSignedCert, type SelfSignedCert } from './lib/processes.js';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.dispose();
  gw = undefined;
});

function listenerPort(g: TestGateway, name: 'tcp' | 'tls' | 'ws'): number {
  const l = g.gateway.broker?.listeners.find((x) => x.name === name);
  if (!l) throw new Error(`the gateway reports no ${name} listener`);
  return l.port;
}

describe('WebSocket listener', () => {
  it('reports the port the kernel chose for port 0, and carries MQTT over ws:// both ways', async () => {
    gw = await startTestGateway(
      ['broker:', '  listeners:', '    tcp: { host: 127.0.0.1, port: 0 }', '    ws: { enabled: true, host: 127.0.0.1, port: 0 }'].join('\n'),
    );
    const wsPort = listenerPort(gw, 'ws');
    expect(wsPort).toBeGreaterThan(0);
    expect(wsPort).not.toBe(gw.mqttPort);
    const url = `ws://127.0.0.1:${wsPort}/mqtt`;

    const sub = await client(url);
    const readings = await collector(sub, 'weir/readings/#', 1);
    const pub = await client(url);
    await pub.publishAsync('weir/ws-dev/telemetry', JSON.stringify({ temp: 19.25 }), { qos: 1 });
    const [got] = await readings.next(1);
    expect(got!.topic).toBe('weir/readings/ws-dev');
    expect(JSON.parse(got!.payload.toString())).toMatchObject({ kind: 'reading', device: 'ws-dev', metric: 'temp', value: 19.25 });
    await Promise.all([sub.endAsync(), pub.endAsync()]);

    expect(await metricValue(gw.httpUrl, 'weir_mqtt_connections_total', { listener: 'ws' })).toBe(2);
    expect(await metricValue(gw.httpUrl, 'weir_mqtt_connections_total', { listener: 'tcp' })).toBe(0);
  });

  it('answers a plain HTTP request with 426 rather than hanging or crashing', async () => {
    gw = await startTestGateway(
      ['broker:', '  listeners:', '    tcp: { host: 127.0.0.1, port: 0 }', '    ws: { enabled: true, host: 127.0.0.1, port: 0 }'].join('\n'),
    );
    const res = await fetch(`http://127.0.0.1:${listenerPort(gw, 'ws')}/mqtt`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(426);
    await res.text();
    // the broker still serves MQTT over WebSocket afterwards
    const c = await client(`ws://127.0.0.1:${listenerPort(gw, 'ws')}/mqtt`);
    await c.endAsync();
  });
});

describe('TLS listener', () => {
  let cert: SelfSignedCert;
  beforeAll(async () => {
    cert = await selfSignedCert();
  });
  afterAll(() => cert?.dispose());

  const tlsGateway = () =>
    startTestGateway(
      [
        'broker:',
        '  listeners:',
        '    tcp: { host: 127.0.0.1, port: 0 }',
        `    tls: { enabled: true, host: 127.0.0.1, port: 0, cert: ${JSON.stringify(cert.certFile)}, key: ${JSON.stringify(cert.keyFile)} }`,
      ].join('\n'),
    );

  it('carries MQTT over mqtts:// for a client that trusts the certificate', async () => {
    gw = await tlsGateway();
    const tlsPort = listenerPort(gw, 'tls');
    expect(tlsPort).toBeGreaterThan(0);
    const ca = readFileSync(cert.certFile);
    const url = `mqtts://127.0.0.1:${tlsPort}`;
    const sub = await client(url, { ca, rejectUnauthorized: true });
    const readings = await collector(sub, 'weir/readings/#', 1);
    const pub = await client(url, { ca, rejectUnauthorized: true });
    await pub.publishAsync('weir/tls-dev/telemetry', JSON.stringify({ hum: 55 }), { qos: 1 });
    const [got] = await readings.next(1);
    expect(JSON.parse(got!.payload.toString())).toMatchObject({ device: 'tls-dev', metric: 'hum', value: 55 });
    await Promise.all([sub.endAsync(), pub.endAsync()]);
    expect(await metricValue(gw.httpUrl, 'weir_mqtt_connections_total', { listener: 'tls' })).toBe(2);
  });

  it('accepts mosquitto_pub --cafile over TLS', async () => {
    gw = await tlsGateway();
    const tlsPort = String(listenerPort(gw, 'tls'));
    const sub = await client(gw.mqttUrl);
    const readings = await collector(sub, 'weir/readings/#', 1);
    await run(
      'mosquitto_pub',
      ['-h', '127.0.0.1', '-p', tlsPort, '--cafile', cert.certFile, '-q', '1', '-t', 'weir/mosq-tls/telemetry', '-m', '{"co2":612}'],
      { timeout: 10_000 },
    );
    const [got] = await readings.next(1);
    expect(JSON.parse(got!.payload.toString())).toMatchObject({ device: 'mosq-tls', metric: 'co2', value: 612 });
    await sub.endAsync();
  });

  it('refuses a client that does not trust the certificate, in MQTT.js and in mosquitto_pub', async () => {
    gw = await tlsGateway();
    const tlsPort = listenerPort(gw, 'tls');
    // no `ca`: the system store does not hold a self-signed certificate made a moment ago
    const error = await client(`mqtts://127.0.0.1:${tlsPort}`, { rejectUnauthorized: true }).then(
      async (c) => (await c.endAsync(), undefined),
      (e: unknown) => e as NodeJS.ErrnoException,
    );
    expect(error?.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');

    const other = await selfSignedCert();
    try {
      const result = await run(
        'mosquitto_pub',
        ['-h', '127.0.0.1', '-p', String(tlsPort), '--cafile', other.certFile, '-t', 'weir/nope/telemetry', '-m', '{"x":1}'],
        { timeout: 10_000 },
      ).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code?: number; stderr?: string }) => ({ code: e.code, stderr: e.stderr ?? '' }),
      );
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/TLS error/);
    } finally {
      other.dispose();
    }
    expect(await metricValue(gw.httpUrl, 'weir_readings_total')).toBe(0);
  });

  it('does not start when the key file cannot be read, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-test-'));
    const bad = startTestGateway(
      [
        'broker:',
        '  listeners:',
        '    tcp: { host: 127.0.0.1, port: 0 }',
        `    tls: { enabled: true, host: 127.0.0.1, port: 0, cert: ${JSON.stringify(cert.certFile)}, key: ${JSON.stringify(`${cert.dir}/missing.pem`)} }`,
      ].join('\n'),
      { dir },
    );
    try {
      await expect(bad).rejects.toThrow(/cannot read .*missing\.pem/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
