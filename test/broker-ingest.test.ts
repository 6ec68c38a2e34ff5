/**
 * The embedded broker and MQTT ingestion over real sockets: MQTT.js and
 * Debian's mosquitto clients against a gateway on ephemeral ports.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import net from 'node:net';
import { startTestGateway, type TestGateway } from './lib/gateway.js';
import { client, collector, eventually, metricValue, sleep, tryConnect } from './lib/mqtt.js';

const run = promisify(execFile);
let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.dispose();
  gw = undefined;
});

describe('ingestion into normalized readings', () => {
  it('decodes a JSON telemetry publish into one reading per metric and republishes each', async () => {
    gw = await startTestGateway();
    const sub = await client(gw.mqttUrl);
    const readings = await collector(sub, 'weir/readings/#');
    const pub = await client(gw.mqttUrl);
    await pub.publishAsync('weir/greenhouse-1/telemetry', JSON.stringify({ temp: 21.5, hum: 40, ts: 1_700_000_000 }), { qos: 1 });
    const got = (await readings.next(2)).map((m) => ({ topic: m.topic, ...JSON.parse(m.payload.toString()) }));
    expect(got.map((r) => [r.topic, r.metric, r.value])).toEqual([
      ['weir/readings/greenhouse-1', 'temp', 21.5],
      ['weir/readings/greenhouse-1', 'hum', 40],
    ]);
    expect(got[0]).toMatchObject({ v: 1, kind: 'reading', device: 'greenhouse-1', ts: 1_700_000_000_000, source: 'mqtt:embedded' });
    expect(got[0].id).not.toEqual(got[1].id);
    expect(got[0].id).toMatch(/^test-gw-\d+-\d+$/);
    await Promise.all([sub.endAsync(), pub.endAsync()]);
    expect(await metricValue(gw.httpUrl, 'weir_readings_total')).toBe(2);
  });

  it('ingests QoS 0, 1 and 2 publishes alike and acknowledges QoS 1 and 2', async () => {
    gw = await startTestGateway();
    const sub = await client(gw.mqttUrl);
    const readings = await collector(sub, 'weir/readings/+', 1);
    const pub = await client(gw.mqttUrl);
    await pub.publishAsync('sensors/d0/temp', '20', { qos: 0 });
    const ack1 = await pub.publishAsync('sensors/d1/temp', '21', { qos: 1 });
    const ack2 = await pub.publishAsync('sensors/d2/temp', '22', { qos: 2 });
    // publishAsync resolves only once the broker completed the QoS flow (PUBACK, PUBREC/PUBCOMP)
    expect(ack1?.messageId).toBeTypeOf('number');
    expect(ack2?.messageId).toBeTypeOf('number');
    const values = (await readings.next(3)).map((m) => JSON.parse(m.payload.toString()).value).sort();
    expect(values).toEqual([20, 21, 22]);
    await Promise.all([sub.endAsync(), pub.endAsync()]);
  });

  it('works with mosquitto_pub and mosquitto_sub', async () => {
    gw = await startTestGateway();
    const port = String(gw.mqttPort);
    const sub = run('mosquitto_sub', ['-h', '127.0.0.1', '-p', port, '-t', 'weir/readings/#', '-C', '1', '-W', '10']);
    await sleep(300); // mosquitto_sub has no "subscribed" signal; give it time to subscribe
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', port, '-q', '1', '-t', 'tele/plug-7/SENSOR', '-m', '{"Time":"2024-05-01T10:00:00","ENERGY":{"Power":42}}']);
    const { stdout } = await sub;
    expect(JSON.parse(stdout)).toMatchObject({ device: 'plug-7', metric: 'ENERGY.Power', value: 42 });
  });

  it('counts, logs and survives undecodable payloads and unmatched topics, and can dead-letter them', async () => {
    gw = await startTestGateway('ingest:\n  deadLetter: { enabled: true }');
    const sub = await client(gw.mqttUrl);
    const dead = await collector(sub, 'weir/dead-letter/#');
    const pub = await client(gw.mqttUrl);
    await pub.publishAsync('weir/bad-1/telemetry', '{not json', { qos: 1 });
    await pub.publishAsync('nobody/knows/this', 'x', { qos: 1 });
    await pub.publishAsync('sensors/good/temp', '5', { qos: 1 });
    const got = await dead.next(2);
    expect(got.map((m) => m.topic).sort()).toEqual(['weir/dead-letter/invalid-json', 'weir/dead-letter/unrouted']);
    const body = JSON.parse(got.find((m) => m.topic.endsWith('invalid-json'))!.payload.toString());
    expect(Buffer.from(body.payloadBase64, 'base64').toString()).toBe('{not json');
    expect(await metricValue(gw.httpUrl, 'weir_decode_errors_total', { device: 'bad-1', code: 'INVALID_JSON' })).toBe(1);
    expect(await metricValue(gw.httpUrl, 'weir_unrouted_total')).toBe(1);
    expect(await metricValue(gw.httpUrl, 'weir_readings_total')).toBe(1);
    expect(pub.connected).toBe(true);
    await Promise.all([sub.endAsync(), pub.endAsync()]);
  });

  it('flags readings outside the range a profile declares instead of dropping them', async () => {
    gw = await startTestGateway(
      ['profiles:', '  - name: probe', "    topic: 'lab/{device}/{metric}'", '    decoder: { kind: value }', '    metrics:', '      temp: { unit: "°C", min: -40, max: 85 }'].join('\n'),
    );
    const sub = await client(gw.mqttUrl);
    const readings = await collector(sub, 'weir/readings/#');
    const pub = await client(gw.mqttUrl);
    await pub.publishAsync('lab/p1/temp', '120', { qos: 1 });
    await pub.publishAsync('lab/p1/temp', '20', { qos: 1 });
    const [hot, ok] = (await readings.next(2)).map((m) => JSON.parse(m.payload.toString()));
    expect(hot).toMatchObject({ value: 120, unit: '°C', flags: ['out-of-range'] });
    expect(ok.flags).toBeUndefined();
    await Promise.all([sub.endAsync(), pub.endAsync()]);
  });
});

describe('MQTT broker behaviour', () => {
  it('keeps retained messages and queued QoS 1 messages for a persistent session across a restart', async () => {
    gw = await startTestGateway();
    const dir = gw.dir;
    const offline = await client(gw.mqttUrl, { clientId: 'persistent-1', clean: false });
    await offline.subscribeAsync('cmd/#', { qos: 1 });
    await offline.endAsync();
    const pub = await client(gw.mqttUrl);
    await pub.publishAsync('status/door', 'closed', { qos: 1, retain: true });
    await pub.publishAsync('cmd/valve', 'open', { qos: 1 });
    await pub.publishAsync('cmd/valve', 'close', { qos: 1 });
    await pub.endAsync();
    await gw.stop();

    gw = await startTestGateway('', { dir });
    const back = await client(gw.mqttUrl, { clientId: 'persistent-1', clean: false });
    const queued = await new Promise<string[]>((resolve) => {
      const got: string[] = [];
      back.on('message', (_t, p) => got.push(p.toString()) === 2 && resolve(got));
    });
    expect(queued).toEqual(['open', 'close']);
    const fresh = await client(gw.mqttUrl);
    const retained = await collector(fresh, 'status/#');
    const [door] = await retained.next(1);
    expect(door).toMatchObject({ topic: 'status/door', retain: true });
    expect(door!.payload.toString()).toBe('closed');
    await Promise.all([back.endAsync(), fresh.endAsync()]);
  });

  it('publishes the last will of a client that vanishes', async () => {
    gw = await startTestGateway();
    const watcher = await client(gw.mqttUrl);
    const wills = await collector(watcher, 'devices/+/status');
    const dying = await client(gw.mqttUrl, { clientId: 'dying', will: { topic: 'devices/dying/status', payload: Buffer.from('offline'), qos: 1, retain: false } });
    (dying.stream as net.Socket).destroy(); // no DISCONNECT: the will must fire [MQTT-3.1.2-8]
    const [will] = await wills.next(1);
    expect(will!.payload.toString()).toBe('offline');
    dying.end(true);
    await watcher.endAsync();
  });

  it('does not let # match $SYS topics and refuses client publishes to them', async () => {
    gw = await startTestGateway();
    const all = await client(gw.mqttUrl);
    const everything = await collector(all, '#');
    const sys = await client(gw.mqttUrl);
    const sysMessages = await collector(sys, '$SYS/#');
    const pub = await client(gw.mqttUrl);
    await pub.publishAsync('$SYS/fake', 'x', { qos: 1 });
    await pub.publishAsync('plain/topic', 'y', { qos: 1 });
    await everything.next(1);
    await sleep(200);
    expect(everything.messages.every((m) => !m.topic.startsWith('$'))).toBe(true); // [MQTT-4.7.2-1]
    expect(sysMessages.messages.some((m) => m.topic === '$SYS/fake')).toBe(false);
    expect(pub.connected).toBe(true);
    await Promise.all([all.endAsync(), sys.endAsync(), pub.endAsync()]);
  });

  it('closes a connection that announces a packet above the size limit, before reading its body, and counts it', async () => {
    gw = await startTestGateway('broker:\n  listeners:\n    tcp: { host: 127.0.0.1, port: 0 }\n  limits:\n    maxPacketSize: 1KiB');
    const big = await client(gw.mqttUrl);
    const closed = new Promise<void>((resolve) => big.once('close', () => resolve()));
    big.publish('sensors/x/blob', Buffer.alloc(4096, 1));
    await closed;
    expect(await metricValue(gw.httpUrl, 'weir_limit_hits_total', { limit: 'packet-size' })).toBe(1);
    const small = await client(gw.mqttUrl);
    await small.publishAsync('sensors/x/temp', '1', { qos: 1 });
    await small.endAsync();
    big.end(true);
  });

  it('survives malformed bytes on the socket: that connection closes, the gateway goes on', async () => {
    gw = await startTestGateway();
    const socket = net.connect(gw.mqttPort, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const closed = new Promise((r) => socket.once('close', r));
    socket.write(Buffer.from([0x10, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x13])); // CONNECT with garbage
    await closed;
    const ok = await client(gw.mqttUrl);
    await ok.publishAsync('sensors/d/temp', '1', { qos: 1 });
    await ok.endAsync();
    await eventually(async () => (await metricValue(gw!.httpUrl, 'weir_readings_total')) === 1);
  });

  it('refuses connections above maxConnections and counts the hit', async () => {
    gw = await startTestGateway('broker:\n  listeners:\n    tcp: { host: 127.0.0.1, port: 0 }\n  limits:\n    maxConnections: 2');
    const a = await client(gw.mqttUrl);
    const b = await client(gw.mqttUrl);
    expect(await tryConnect(gw.mqttUrl)).toBe(false);
    expect(await metricValue(gw.httpUrl, 'weir_limit_hits_total', { limit: 'connections' })).toBe(1);
    await a.endAsync();
    await eventually(() => tryConnect(gw!.mqttUrl), 5000, 'a free connection slot');
    await b.endAsync();
  });

  it('answers CONNACK 0x02 to a client id longer than the configured maximum', async () => {
    gw = await startTestGateway('broker:\n  listeners:\n    tcp: { host: 127.0.0.1, port: 0 }\n  limits:\n    maxClientIdLength: 30');
    const error = await client(gw.mqttUrl, { clientId: 'x'.repeat(31) }).catch((e: { code?: number }) => e);
    expect((error as { code?: number }).code).toBe(2);
    const ok = await client(gw.mqttUrl, { clientId: 'x'.repeat(30) });
    await ok.endAsync();
  });

  it('sets TCP_NODELAY on broker sockets (QoS 0 round trip well under Nagle delays)', async () => {
    gw = await startTestGateway();
    const c = await client(gw.mqttUrl);
    const got = await collector(c, 'echo/#');
    // warm up, then time a round trip through the broker; Nagle + delayed ACK would add ~40 ms
    await c.publishAsync('echo/1', 'a');
    await got.next(1);
    const rounds: number[] = [];
    for (let i = 2; i <= 21; i++) {
      const t = performance.now();
      c.publish(`echo/${i}`, 'x');
      await got.next(i);
      rounds.push(performance.now() - t);
    }
    rounds.sort((x, y) => x - y);
    expect(rounds[10]).toBeLessThan(20);
    await c.endAsync();
  });
});
