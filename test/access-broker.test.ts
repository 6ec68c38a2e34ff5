/**
 * Authentication and ACLs of the embedded broker over real sockets: MQTT.js
 * and Debian's mosquitto clients against startEmbeddedBroker on an ephemeral
 * port, with the access control built from broker.auth as app.ts builds it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type ErrorWithSubackPacket, type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../gateway/broker/broker.js';
import { createAccessControl } from '../gateway/broker/access/create-access-control.js';
import { addUser } from '../gateway/broker/access/users-file.js';
import { loadConfigFile } from '../gateway/config/load.js';
import { formatProblem } from '../gateway/core/yaml-source.js';
import { Metrics } from '../gateway/metrics/metrics.js';

const FAST = { N: 1024, r: 8, p: 1 };
const CONFIG = `
broker:
  listeners:
    tcp: { host: '::', port: 0 }
  persistence: { enabled: false }
  auth:
    anonymous: loopback
    usersFile: users
    acl:
      - { user: dev1, topic: 'devices/%c/#', access: readwrite }
      - { user: dash, topic: 'devices/#', access: read }
      - { user: ops, topic: '#', access: read }
      - { user: ops, topic: '$SYS/#', access: read }
      - { user: $anonymous, topic: 'public/#', access: readwrite }
      - { user: $anonymous, topic: '$SYS/#', access: write }
      - { topic: 'weir/#', access: readwrite }
`;

let dir: string;
let broker: EmbeddedBroker;
let metrics: Metrics;
let port: number;
const clients: MqttClient[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weir-access-broker-'));
  for (const [user, password] of [['dev1', 'dev1-pw'], ['dash', 'dash-pw'], ['ops', 'ops-pw']] as const) {
    await addUser(join(dir, 'users'), user, password, { params: FAST });
  }
  await writeFile(join(dir, 'weir.yaml'), CONFIG);
  const loaded = loadConfigFile(join(dir, 'weir.yaml'));
  if (!loaded.ok) throw new Error(loaded.problems.map(formatProblem).join('\n'));
  const config = loaded.loaded.config.broker;
  metrics = new Metrics();
  broker = await startEmbeddedBroker({
    config,
    dataDir: join(dir, 'data'),
    baseDir: dir,
    access: await createAccessControl(config.auth, { baseDir: dir }),
    metrics,
    log: pino({ level: process.env.WEIR_TEST_LOG ?? 'silent' }),
    onClientPublish: () => undefined,
  });
  port = broker.listeners.find((l) => l.name === 'tcp')!.port;
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
});

afterAll(async () => {
  await broker?.close();
  await rm(dir, { recursive: true, force: true });
});

async function connect(options: IClientOptions = {}, host = '127.0.0.1'): Promise<MqttClient> {
  const url = host.includes(':') ? `mqtt://[${host}]:${port}` : `mqtt://${host}:${port}`;
  const c = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  clients.push(c);
  return c;
}

/** The CONNACK return code of a refused connection. */
async function refusal(options: IClientOptions, host = '127.0.0.1'): Promise<unknown> {
  const error = await connect(options, host).then(
    () => undefined,
    (e: unknown) => e,
  );
  return (error as { code?: unknown } | undefined)?.code;
}

function collect(c: MqttClient) {
  const messages: { topic: string; payload: string }[] = [];
  c.on('message', (topic, payload) => messages.push({ topic, payload: payload.toString() }));
  return {
    messages,
    async until(topic: string, timeoutMs = 5000) {
      const end = Date.now() + timeoutMs;
      while (!messages.some((m) => m.topic === topic)) {
        if (Date.now() > end) throw new Error(`no message on ${topic}; got ${JSON.stringify(messages)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 15_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Resolves once aedes has processed a SUBSCRIBE from this client id (for spawned subscribers). */
function subscribed(clientId: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (_subs: unknown, client: { id: string } | null) => {
      if (client?.id !== clientId) return;
      broker.aedes.off('subscribe', on);
      resolve();
    };
    broker.aedes.on('subscribe', on);
  });
}

// The LAN refusal needs a non-loopback IPv4 address to connect from; every CI machine has one, so
// the test is skipped only on a host with loopback alone.
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && !a.internal && a.family === 'IPv4')?.address;

describe('authentication', () => {
  it('refuses a wrong password with CONNACK 4 and accepts the right one', async () => {
    expect(await refusal({ username: 'dev1', password: 'nope' })).toBe(4);
    expect(await refusal({ username: 'ghost', password: 'dev1-pw' })).toBe(4);
    const c = await connect({ username: 'dev1', password: 'dev1-pw' });
    expect(c.connected).toBe(true);
  });

  it('refuses a username without a password on loopback too', async () => {
    expect(await refusal({ username: 'dev1' })).toBe(4);
  });

  it('refuses mosquitto_pub with a bad password', async () => {
    const result = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-u', 'dev1', '-P', 'nope', '-t', 'x', '-m', 'y']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/bad user name or password/i);
  });

  it('admits anonymous clients on 127.0.0.1 (dual-stack ::ffff:127.0.0.1) and ::1', async () => {
    expect((await connect({}, '127.0.0.1')).connected).toBe(true);
    expect((await connect({}, '::1')).connected).toBe(true);
  });

  // needs a non-loopback address on this machine to connect from; every CI machine here has one
  it.skipIf(!lanAddress)('refuses anonymous clients from a LAN address with CONNACK 5, but not users', async () => {
    expect(await refusal({}, lanAddress)).toBe(5);
    expect((await connect({ username: 'dash', password: 'dash-pw' }, lanAddress)).connected).toBe(true);
  });
});

describe('topic ACLs', () => {
  it('answers a denied subscription with SUBACK 0x80 and grants the allowed one', async () => {
    const c = await connect({ clientId: 'dev1-a', username: 'dev1', password: 'dev1-pw' });
    // MQTT.js 5 rejects a SUBACK holding any 0x80 and hands over the packet with the granted codes.
    const error = await c.subscribeAsync(['devices/dev1-a/#', 'devices/dev2/#'], { qos: 1 }).then(
      () => undefined,
      (e: unknown) => e as ErrorWithSubackPacket,
    );
    expect(error?.packet).toMatchObject({ cmd: 'suback', granted: [1, 128] });
    expect(c.connected).toBe(true);
  });

  it('tells mosquitto_sub its only subscription was denied', async () => {
    const result = await run('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-u', 'dev1', '-P', 'dev1-pw', '-t', 'devices/other/#', '-W', '3']);
    expect(result.stderr).toMatch(/denied/i);
  });

  it('acknowledges then drops a denied publish, counts it, and keeps the connection', async () => {
    const dash = await connect({ username: 'dash', password: 'dash-pw' });
    const seen = collect(dash);
    await dash.subscribeAsync('devices/#', { qos: 1 });
    await dash.subscribeAsync('weir/#', { qos: 1 });
    const dev = await connect({ clientId: 'dev1-a', username: 'dev1', password: 'dev1-pw' });
    const before = (await metrics.aclDenied.get()).values.find((v) => v.labels.action === 'publish')?.value ?? 0;

    await dev.publishAsync('devices/dev2/cmd', 'forged', { qos: 1 }); // PUBACK arrives although it is dropped
    await dev.publishAsync('weir/readings/dev1-a', 'forged', { qos: 1 }); // reserved despite `weir/#` readwrite
    await dev.publishAsync('devices/dev1-a/state', 'ok', { qos: 1 });
    await seen.until('devices/dev1-a/state');

    expect(seen.messages.map((m) => m.topic)).toEqual(['devices/dev1-a/state']);
    expect(dev.connected).toBe(true);
    const after = (await metrics.aclDenied.get()).values.find((v) => v.labels.action === 'publish')?.value ?? 0;
    expect(after - before).toBe(2);
  });

  it('does not deliver a client publish to $SYS/x', async () => {
    const ops = await connect({ username: 'ops', password: 'ops-pw' });
    const seen = collect(ops);
    await ops.subscribeAsync('$SYS/#', { qos: 1 });
    // Anonymous clients hold an ACL write grant on $SYS/#: the reserved rule still wins.
    const pub = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-q', '1', '-t', '$SYS/x', '-m', 'forged']);
    expect(pub.code).toBe(0);
    await broker.publish('$SYS/weir/probe', 'from the broker', { qos: 1 });
    await seen.until('$SYS/weir/probe');
    expect(seen.messages.filter((m) => m.topic === '$SYS/x')).toEqual([]);
  });

  it('does not match $SYS topics with a # subscription (mosquitto_sub)', async () => {
    const ready = subscribed('ops-hash');
    const sub = run('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-i', 'ops-hash', '-u', 'ops', '-P', 'ops-pw', '-t', '#', '-v', '-C', '1', '-W', '10']);
    await ready;
    await broker.publish('$SYS/weir/probe', 'not for #', { qos: 0 });
    await broker.publish('weir/sentinel', 'for #', { qos: 0 });
    const result = await sub;
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('weir/sentinel for #');
  });

  it('holds a last will to the same ACL as a publish', async () => {
    const dash = await connect({ username: 'dash', password: 'dash-pw' });
    const seen = collect(dash);
    await dash.subscribeAsync('devices/#', { qos: 1 });
    await dash.subscribeAsync('weir/#', { qos: 1 });
    for (const topic of ['devices/dev2/status', 'weir/alerts/forged', 'devices/dev1-w/status']) {
      const dev = await connect({ clientId: 'dev1-w', username: 'dev1', password: 'dev1-pw', will: { topic, payload: Buffer.from('gone'), qos: 1, retain: false } });
      const gone = new Promise((resolve) => broker.aedes.once('clientDisconnect', resolve));
      dev.stream.destroy(); // an unclean end publishes the will
      await gone;
    }
    await seen.until('devices/dev1-w/status');
    expect(seen.messages.map((m) => m.topic)).toEqual(['devices/dev1-w/status']);
  });

  it('delivers between mosquitto_pub and mosquitto_sub where the ACL allows', async () => {
    const ready = subscribed('dash-sub');
    const sub = run('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-i', 'dash-sub', '-u', 'dash', '-P', 'dash-pw', '-t', 'devices/#', '-v', '-C', '1', '-W', '10']);
    await ready;
    const pub = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-i', 'dev1-m', '-u', 'dev1', '-P', 'dev1-pw', '-q', '1', '-t', 'devices/dev1-m/t', '-m', '21.5']);
    expect(pub.code).toBe(0);
    expect((await sub).stdout.trim()).toBe('devices/dev1-m/t 21.5');
  });
});
