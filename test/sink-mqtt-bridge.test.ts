/**
 * The MQTT bridge sink against a real Mosquitto on a free loopback port:
 * topic remapping, delivered only after every PUBACK, retry while
 * disconnected or unanswered, and a Mosquitto stopped mid-stream and started
 * again, after which everything has arrived, in order per device.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Value } from '@sinclair/typebox/value';
import type { MqttClient } from 'mqtt';
import { MqttBridgeSink } from '../gateway/sinks/mqtt-bridge/mqtt-bridge-sink.js';
import { MqttBridgeSinkConfig } from '../gateway/sinks/mqtt-bridge/config.js';
import { compileTopic } from '../gateway/sinks/mqtt-bridge/topic-template.js';
import { SystemClock } from '../gateway/core/clock.js';
import { Forwarder } from '../gateway/forward/forwarder.js';
import { deliverySettings } from '../gateway/forward/config.js';
import { isWeirError } from '../gateway/core/errors.js';
import type { PipelineRecord } from '../gateway/core/contracts.js';
import { MemoryBuffer, alert, reading, startDurableMosquitto, type DurableMosquitto } from './lib/forwarding.js';
import { client, collector, eventually, sleep } from './lib/mqtt.js';
import { freePort, selfSignedCert } from './lib/processes.js';

const silent = pino({ level: process.env.WEIR_TEST_LOG ?? 'silent' });
const T = 1_800_000_000_000;

let cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function bridge(url: string, extra: Record<string, unknown> = {}) {
  const config = Value.Default(MqttBridgeSinkConfig, { kind: 'mqtt', name: 'up', url, reconnectPeriod: '200ms', ...extra }) as MqttBridgeSinkConfig;
  const sink = new MqttBridgeSink(config, { gatewayId: 'gw1', baseDir: process.cwd(), clock: new SystemClock(), log: silent });
  cleanup.push(() => sink.close());
  return sink;
}

async function mosquitto(options: Parameters<typeof startDurableMosquitto>[0] = {}): Promise<DurableMosquitto> {
  const m = await startDurableMosquitto(options);
  cleanup.push(() => m.dispose());
  return m;
}

/** A subscriber with its own persistent session, so it misses nothing across a broker restart. */
async function subscriber(url: string, filter = 'weir/#') {
  const c: MqttClient = await client(url, { clientId: `test-sub-${Math.random().toString(16).slice(2)}`, clean: false, reconnectPeriod: 50 });
  cleanup.push(() => c.endAsync(true));
  return collector(c, filter, 1);
}

describe('topic templates', () => {
  it('fills the default weir/{gateway}/{kind}/{device}, one level per placeholder', () => {
    const topic = compileTopic('weir/{gateway}/{kind}/{device}', 'gw1');
    expect(topic(reading('boiler-1', 1, T))).toBe('weir/gw1/reading/boiler-1');
    expect(topic(reading('site/a+b#', 1, T))).toBe('weir/gw1/reading/site_a_b_');
    expect(topic(alert('hot', T, { device: undefined as never }))).toBe('weir/gw1/alert/_');
  });

  it('knows metric, rule and severity, and writes _ where one does not apply', () => {
    const topic = compileTopic('t/{device}/{metric}/{rule}/{severity}', 'gw1');
    expect(topic(reading('d1', 1, T))).toBe('t/d1/temp/_/_');
    expect(topic(alert('hot', T))).toBe('t/d1/_/hot/critical');
  });

  it('refuses wildcards and unknown placeholders at boot', () => {
    const bad = (t: string) => {
      try {
        compileTopic(t, 'gw');
        return 'accepted';
      } catch (e) {
        return isWeirError(e, 'CONFIG_INVALID') ? 'CONFIG_INVALID' : String(e);
      }
    };
    expect([bad('weir/+/x'), bad('weir/#'), bad('weir/{site}'), bad(''), bad('ok/{device}')]).toEqual(['CONFIG_INVALID', 'CONFIG_INVALID', 'CONFIG_INVALID', 'CONFIG_INVALID', 'accepted']);
  });
});

describe('delivering to Mosquitto', () => {
  it('publishes each record as JSON at QoS 1 on its remapped topic and reports delivered after the PUBACKs', async () => {
    const m = await mosquitto();
    const telemetry = await subscriber(m.url, 'weir/#');
    const alerts = await subscriber(m.url, 'alerts/#');
    const sink = bridge(m.url, { alertTopic: 'alerts/{gateway}/{rule}' });
    await eventually(() => sink.connected, 5000, 'bridge connected');
    const batch: PipelineRecord[] = [reading('d1', 1, T), reading('d2', true, T), alert('overheat', T)];
    expect(await sink.deliver(batch)).toEqual({ kind: 'delivered' });
    const received = (await telemetry.next(2)).map((x) => [x.topic, x.qos, JSON.parse(x.payload.toString())]);
    expect(received).toEqual([
      ['weir/gw1/reading/d1', 1, batch[0]],
      ['weir/gw1/reading/d2', 1, batch[1]],
    ]);
    expect((await alerts.next(1)).map((x) => [x.topic, JSON.parse(x.payload.toString())])).toEqual([['alerts/gw1/overheat', batch[2]]]);
  });

  it('answers retry at once while the upstream is unreachable', async () => {
    const sink = bridge(`mqtt://127.0.0.1:${await freePort()}`);
    await sleep(300);
    const outcome = await sink.deliver([reading('d1', 1, T)]);
    expect(outcome.kind).toBe('retry');
    expect(outcome.kind === 'retry' && outcome.reason).toMatch(/^not connected to the upstream broker/);
  });

  it('answers retry when the PUBACKs do not come within ackTimeout', async () => {
    const m = await mosquitto();
    const sink = bridge(m.url, { ackTimeout: '300ms', keepalive: '60s' });
    await eventually(() => sink.connected, 5000, 'bridge connected');
    m.freeze();
    try {
      const outcome = await sink.deliver([reading('d1', 1, T), reading('d1', 2, T)]);
      expect(outcome).toEqual({ kind: 'retry', reason: '2 of 2 messages not acknowledged within 300 ms' });
    } finally {
      m.thaw();
    }
  });
});

describe('TLS', () => {
  it('delivers over mqtts:// when the CA verifies the broker, and retries with the reason when it does not', async () => {
    const cert = await selfSignedCert();
    cleanup.push(() => cert.dispose());
    const m = await mosquitto({ tls: { certFile: cert.certFile, keyFile: cert.keyFile } });
    const trusted = bridge(m.url, { ca: cert.certFile });
    await eventually(() => trusted.connected, 5000, 'TLS bridge connected');
    expect(await trusted.deliver([reading('d1', 1, T)])).toEqual({ kind: 'delivered' });

    const untrusted = bridge(m.url);
    await sleep(500);
    const outcome = await untrusted.deliver([reading('d1', 1, T)]);
    expect(outcome.kind === 'retry' && outcome.reason).toMatch(/not connected to the upstream broker: .*self.signed/i);
  });
});

describe('regression-style fault: Mosquitto stopped mid-stream and restarted', () => {
  it('delivers everything, in order per device, with bounded duplicates', async () => {
    const m = await mosquitto();
    const got = await subscriber(m.url);
    const dataDir = mkdtempSync(join(tmpdir(), 'weir-bridge-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const buffer = new MemoryBuffer();
    const sink = bridge(m.url);
    const clock = new SystemClock();
    const forwarder = new Forwarder({
      buffer,
      sinks: [{ sink, settings: deliverySettings({ batchSize: 20, linger: '2ms', backoffMin: '50ms', backoffMax: '400ms' }) }],
      dataDir,
      clock,
      log: silent,
    });
    cleanup.push(() => forwarder.stop(2000));
    buffer.onDurable(() => forwarder.notify());
    forwarder.start();

    const devices = ['d1', 'd2', 'd3'];
    const sent: PipelineRecord[] = [];
    const produce = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const batch = devices.map((d) => reading(d, i, Date.now()));
        sent.push(...batch);
        await buffer.append(batch);
        await sleep(2);
      }
    };
    await produce(0, 100);
    await m.stop();
    await produce(100, 200); // the upstream is down: these wait in the buffer
    await eventually(() => forwarder.status()[0]!.circuit !== 'closed', 5000, 'circuit open');
    await m.start();
    await produce(200, 300);
    await eventually(() => buffer.cursor('up') === BigInt(sent.length), 20_000, 'every record acked');

    const ids = new Set(sent.map((r) => r.id));
    await eventually(() => new Set(got.json().map((r) => r.id as string)).size === ids.size, 10_000, 'every record received');
    const received = got.json() as unknown as PipelineRecord[];
    // Order is judged on the copy of each record that arrived last. Mosquitto's own restart may
    // lose or reorder a message it had acked but not yet passed to the subscriber (seen here: one
    // reappeared only through weir's re-send); weir re-sends the whole unacknowledged batch from
    // its first record, in order, so the last copies are in order whatever the broker did.
    const lastCopy = new Map<string, PipelineRecord>();
    for (const r of received) (lastCopy.delete(r.id), lastCopy.set(r.id, r));
    for (const d of devices) {
      const values = [...lastCopy.values()].filter((r) => r.device === d).map((r) => (r.kind === 'reading' ? r.value : -1));
      expect(values).toEqual([...Array(300).keys()]);
    }
    const duplicates = received.length - lastCopy.size;
    expect(duplicates).toBeLessThanOrEqual(2 * 20 * 2); // at most a batch or two per outage, re-sent
    expect(received.some((r) => r.kind === 'reading' && r.flags?.includes('replay'))).toBe(true);
    const s = forwarder.status()[0]!;
    expect(s).toMatchObject({ circuit: 'closed', delivered: { records: sent.length } });
    expect(s.retries).toBeGreaterThan(0);
    console.info(`mosquitto restart: ${sent.length} records, ${duplicates} duplicates, ${s.retries} retries, ${s.replayed} sent as replay`);
  });
});
