/**
 * MQTT options that matter on real deployments: TLS with the gateway's
 * certificate as CA, credentials from the users file, QoS 2 and persistent
 * sessions. A wrong password is counted, not thrown.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../gateway/broker/access/users-file.js';
import { startTestGateway, type TestGateway } from './lib/gateway.js';
import { eventually, metricValue } from './lib/mqtt.js';
import { selfSignedCert, type SelfSignedCert } from './lib/processes.js';
import { loadScenarioText } from '../firmware-sim/scenario/load.js';
import { startFleet } from '../firmware-sim/run/fleet.js';

let gw: TestGateway | undefined;
let cert: SelfSignedCert;
beforeAll(async () => {
  cert = await selfSignedCert();
});
afterAll(() => cert?.dispose());
afterEach(async () => {
  await gw?.dispose();
  gw = undefined;
});

async function securedGateway(): Promise<{ gw: TestGateway; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'weir-sim-tls-'));
  await addUser(join(dir, 'users'), 'sensor', 's3cret', { params: { N: 1024, r: 8, p: 1 } });
  const g = await startTestGateway(
    [
      'broker:',
      '  listeners:',
      '    tcp: { host: 127.0.0.1, port: 0 }',
      `    tls: { enabled: true, host: 127.0.0.1, port: 0, cert: ${JSON.stringify(cert.certFile)}, key: ${JSON.stringify(cert.keyFile)} }`,
      '  auth: { anonymous: never, usersFile: users }',
    ].join('\n'),
    { dir },
  );
  const port = g.gateway.broker!.listeners.find((l) => l.name === 'tls')!.port;
  return { gw: g, url: `mqtts://127.0.0.1:${port}` };
}

const scenario = (password: string) => `
duration: 800ms
mqtt:
  qos: 2
  clean: false
  username: sensor
  password: ${password}
  tls: { ca: ${JSON.stringify(cert.certFile)} }
fleet:
  - { profile: weir-json, count: 3, id: 'sec-{i}', cadence: 100ms, metrics: { t: [{ kind: constant, value: 5 }] } }
`;

describe('weir sim with TLS, credentials and QoS 2', () => {
  it('delivers over mqtts:// with a username and password at QoS 2, every message acknowledged once', async () => {
    const secured = await securedGateway();
    gw = secured.gw;
    const loaded = loadScenarioText('/tmp/tls.yaml', scenario('s3cret'));
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const fleet = await startFleet(loaded.plan, { mqttUrl: secured.url });
    const s = await fleet.finished;
    expect(s.messages.sent).toBeGreaterThan(15);
    expect(s.messages.acknowledged).toBe(s.messages.sent);
    await eventually(async () => (await metricValue(gw!.httpUrl, 'weir_readings_total')) === s.readings.acknowledged, 3000, 'readings');
    expect(await metricValue(gw.httpUrl, 'weir_mqtt_connections_total', { listener: 'tls' })).toBe(3);
  });

  it('a wrong password is counted as errors and nothing is acknowledged', async () => {
    const secured = await securedGateway();
    gw = secured.gw;
    const loaded = loadScenarioText('/tmp/tls.yaml', scenario('wrong'));
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const fleet = await startFleet(loaded.plan, { mqttUrl: secured.url, drainMs: 200 });
    const s = await fleet.finished;
    expect(s.messages.acknowledged).toBe(0);
    expect(s.errors.MQTT_ERROR).toBeGreaterThanOrEqual(3);
    expect(s.lastError).toMatch(/MQTT_ERROR: .*(Not authorized|Bad username or password)/i);
  });
});
