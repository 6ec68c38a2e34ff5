/** `weir doctor` checks upstreams with the configured credentials, against real peers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addUser } from '../gateway/broker/access/users-file.js';
import { runDoctorCommand } from '../gateway/cli/doctor.js';
import { startTestGateway, type TestGateway } from './lib/gateway.js';

let gw: TestGateway;
let influx: http.Server;
let influxUrl: string;
const dir = mkdtempSync(join(tmpdir(), 'weir-doctor-up-'));

beforeAll(async () => {
  const users = join(dir, 'users');
  await addUser(users, 'alice', 's3cret');
  gw = await startTestGateway(`broker:\n  listeners:\n    tcp: { host: 127.0.0.1, port: 0 }\n  auth: { anonymous: never, usersFile: ${users} }`);
  // a stand-in InfluxDB that knows one token
  influx = http.createServer((req, res) => res.writeHead(req.headers.authorization === 'Token good' ? 200 : 401).end('{}'));
  await new Promise<void>((r) => influx.listen(0, '127.0.0.1', r));
  influxUrl = `http://127.0.0.1:${(influx.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await gw?.dispose();
  await new Promise((r) => influx?.close(r));
});

async function doctor(yaml: string): Promise<{ check: string; status: string; detail: string }[]> {
  const file = join(dir, `weir-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `broker: { listeners: { tcp: { host: 127.0.0.1, port: 0 } } }\nhttp: { enabled: false }\ngateway: { dataDir: ./data }\n${yaml}`);
  let out = '';
  await runDoctorCommand({ config: file, json: true }, { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream);
  return (JSON.parse(out) as { findings: { check: string; status: string; detail: string }[] }).findings.filter((f) => f.check.startsWith('upstream.'));
}

describe('weir doctor upstream checks', () => {
  it('tells accepted MQTT credentials from refused ones', async () => {
    const ok = await doctor(`ingest:\n  external: [{ name: up, url: '${gw.mqttUrl}', username: alice, password: s3cret }]`);
    expect(ok).toEqual([expect.objectContaining({ check: 'upstream.up', status: 'ok' })]);
    const refused = await doctor(`ingest:\n  external: [{ name: up, url: '${gw.mqttUrl}', username: alice, password: nope }]`);
    expect(refused).toEqual([expect.objectContaining({ check: 'upstream.up', status: 'fail', detail: expect.stringContaining('CONNACK 4') })]);
  });
  it('checks an InfluxDB token, and warns for an upstream that is down', async () => {
    const good = await doctor(`sinks: [{ kind: influxdb, name: tsdb, url: '${influxUrl}', org: o, bucket: b, token: good }]`);
    expect(good[0]).toMatchObject({ status: 'ok' });
    const bad = await doctor(`sinks: [{ kind: influxdb, name: tsdb, url: '${influxUrl}', org: o, bucket: b, token: bad }]`);
    expect(bad[0]).toMatchObject({ status: 'fail', detail: expect.stringContaining('401') });
    const down = await doctor(`sinks: [{ kind: kafka, name: k, brokers: ['127.0.0.1:9'] }]`);
    expect(down[0]).toMatchObject({ status: 'warn', detail: expect.stringContaining('unreachable') });
  });
});
