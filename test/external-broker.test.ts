/**
 * Ingesting from an external broker: a real Mosquitto child process on a free
 * loopback port, fed by mosquitto_pub, with weir as its MQTT client, alone or
 * beside the embedded broker, across a Mosquitto restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './lib/gateway.js';
import { client, collector, eventually, metricValue, sleep } from './lib/mqtt.js';
import { run, startMosquitto, portIsClosed, type Mosquitto } from './lib/processes.js';

let gw: TestGateway | undefined;
let mosq: Mosquitto | undefined;
afterEach(async () => {
  await gw?.dispose();
  gw = undefined;
  await mosq?.dispose();
  mosq = undefined;
});

const mosquittoPub = (port: number, topic: string, message: string) =>
  run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-q', '1', '-t', topic, '-m', message], { timeout: 10_000 });

const external = (url: string) => ['ingest:', '  external:', `    - { name: up, url: "${url}" }`].join('\n');

describe('an external Mosquitto as the only broker', () => {
  it('ingests what mosquitto_pub sends there and republishes the readings on that same Mosquitto', async () => {
    mosq = await startMosquitto();
    gw = await startTestGateway(['broker:', '  enabled: false', external(mosq.url)].join('\n'));
    expect(gw.gateway.broker).toBeUndefined();
    expect(await metricValue(gw.httpUrl, 'weir_external_broker_connected', { broker: 'up' })).toBe(1);

    const sub = await client(mosq.url);
    const readings = await collector(sub, 'weir/readings/#', 1);
    await mosquittoPub(mosq.port, 'weir/d1/telemetry', JSON.stringify({ temp: 22.5, hum: 41, ts: 1_700_000_000 }));
    const got = (await readings.next(2, 10_000)).map((m) => ({ topic: m.topic, ...JSON.parse(m.payload.toString()) }));
    expect(got.map((r) => [r.topic, r.metric, r.value])).toEqual([
      ['weir/readings/d1', 'temp', 22.5],
      ['weir/readings/d1', 'hum', 41],
    ]);
    expect(got[0]).toMatchObject({ kind: 'reading', device: 'd1', ts: 1_700_000_000_000, source: 'mqtt:up' });

    // weir's own republished readings must not come back in as telemetry
    await sleep(300);
    expect(readings.messages).toHaveLength(2);
    expect(await metricValue(gw.httpUrl, 'weir_readings_total', { source: 'mqtt:up' })).toBe(2);
    expect(await metricValue(gw.httpUrl, 'weir_unrouted_total')).toBe(0);
    await sub.endAsync();
  });
});

describe('regression: external-broker messages were acked and dropped unless the connection used MQTT 5 (customHandleAcks)', () => {
  it('ingests QoS 0, 1 and 2 publishes over an MQTT 3.1.1 connection', async () => {
    mosq = await startMosquitto();
    gw = await startTestGateway(['broker:', '  enabled: false', 'ingest:', '  external:', `    - { name: up, url: "${mosq.url}", qos: 2 }`].join('\n'));
    const sub = await client(mosq.url);
    const readings = await collector(sub, 'weir/readings/#', 1);
    for (const qos of ['0', '1', '2']) {
      await run('mosquitto_pub', ['-V', 'mqttv311', '-h', '127.0.0.1', '-p', String(mosq.port), '-q', qos, '-t', `sensors/q${qos}/level`, '-m', qos], { timeout: 10_000 });
    }
    const got = (await readings.next(3, 10_000)).map((m) => JSON.parse(m.payload.toString()) as { device: string; value: number });
    expect(got.map((r) => [r.device, r.value]).sort()).toEqual([
      ['q0', 0],
      ['q1', 1],
      ['q2', 2],
    ]);
    expect(await metricValue(gw.httpUrl, 'weir_messages_in_total', { source: 'mqtt:up' })).toBe(3);
    await sub.endAsync();
  });
});

describe('an external Mosquitto beside the embedded broker', () => {
  it('ingests from both and republishes every reading on the embedded broker only', async () => {
    mosq = await startMosquitto();
    gw = await startTestGateway(['broker:', '  listeners:', '    tcp: { host: 127.0.0.1, port: 0 }', external(mosq.url)].join('\n'));
    const local = await client(gw.mqttUrl);
    const readings = await collector(local, 'weir/readings/#', 1);
    const remote = await client(mosq.url);
    const onMosquitto = await collector(remote, 'weir/readings/#', 1);

    await mosquittoPub(mosq.port, 'weir/from-mosq/telemetry', '{"temp":1}');
    await mosquittoPub(gw.mqttPort, 'weir/from-embedded/telemetry', '{"temp":2}');
    const got = (await readings.next(2, 10_000)).map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>);
    expect(got.map((r) => [r.device, r.value, r.source]).sort()).toEqual([
      ['from-embedded', 2, 'mqtt:embedded'],
      ['from-mosq', 1, 'mqtt:up'],
    ]);
    await sleep(300);
    expect(onMosquitto.messages).toEqual([]);
    expect(await metricValue(gw.httpUrl, 'weir_readings_total', { source: 'mqtt:up' })).toBe(1);
    expect(await metricValue(gw.httpUrl, 'weir_readings_total', { source: 'mqtt:embedded' })).toBe(1);
    await Promise.all([local.endAsync(), remote.endAsync()]);
  });
});

describe('an external broker that restarts', () => {
  it('is reconnected to, keeps being ingested from, and its connected gauge goes 1 -> 0 -> 1', async () => {
    mosq = await startMosquitto();
    gw = await startTestGateway(['broker:', '  enabled: false', external(mosq.url)].join('\n'));
    const connected = () => metricValue(gw!.httpUrl, 'weir_external_broker_connected', { broker: 'up' });
    const ingested = () => metricValue(gw!.httpUrl, 'weir_readings_total', { source: 'mqtt:up' });
    expect(await connected()).toBe(1);
    await mosquittoPub(mosq.port, 'sensors/pump/pressure', '1.5');
    await eventually(async () => (await ingested()) === 1, 5000, 'the first reading');

    await mosq.stop();
    expect(await portIsClosed(mosq.port)).toBe(true);
    await eventually(async () => (await connected()) === 0, 5000, 'the gauge to drop to 0');

    await mosq.restart();
    // MQTT.js retries every 2 s in the source; allow a few attempts
    await eventually(async () => (await connected()) === 1, 15_000, 'weir to reconnect to the restarted Mosquitto');

    // the restarted Mosquitto kept no session (persistence false): readings flow only if weir subscribed again
    const sub = await client(mosq.url);
    const readings = await collector(sub, 'weir/readings/#', 1);
    const until = Date.now() + 10_000;
    while (readings.messages.length === 0 && Date.now() < until) {
      // the gauge rises on CONNACK, a moment before the new SUBSCRIBE lands: publish until one gets through
      await mosquittoPub(mosq.port, 'sensors/pump/pressure', '2.5');
      await sleep(250);
    }
    expect(readings.messages.length).toBeGreaterThan(0);
    expect(JSON.parse(readings.messages[0]!.payload.toString())).toMatchObject({ device: 'pump', metric: 'pressure', value: 2.5, source: 'mqtt:up' });
    expect(await ingested()).toBeGreaterThanOrEqual(2);
    expect(await connected()).toBe(1);
    await sub.endAsync();
  });
});
