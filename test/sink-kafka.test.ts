/**
 * The Kafka sink against a real single-node Kafka broker (test/services/kafka.sh):
 * what weir produces is consumed back with the same client and compared.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Value } from '@sinclair/typebox/value';
import type { AlertRecord, ReadingRecord } from '../gateway/core/records.js';
import type { DeliveryOutcome, PipelineRecord } from '../gateway/core/contracts.js';
import {
  createKafkaSink,
  KafkaSinkConfigSchema,
  KAFKA_COMPRESSIONS,
  type KafkaSinkConfig,
  type KafkaSink,
} from '../gateway/sinks/kafka/index.js';
import { createTopic, readTopic, startKafka, type ConsumedMessage, type KafkaBroker } from './lib/kafka.js';

const log = pino({ level: process.env.WEIR_TEST_LOG ?? 'silent' });
const GATEWAY = 'gw-test';

let broker: KafkaBroker;
const sinks: KafkaSink[] = [];

beforeAll(async () => {
  broker = await startKafka({ secure: true });
}, 600_000);

afterAll(async () => {
  await Promise.all(sinks.map((s) => s.close()));
  await broker?.dispose();
}, 60_000);

/** Config as written (defaults filled and validated), as the gateway's loader would hand it over. */
function config(overrides: Record<string, unknown>): KafkaSinkConfig {
  const value = Value.Default(KafkaSinkConfigSchema, { kind: 'kafka', name: 'kafka-test', brokers: [broker.bootstrap], ...overrides });
  const errors = [...Value.Errors(KafkaSinkConfigSchema, value)];
  if (errors.length > 0) throw new Error(errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
  return value as KafkaSinkConfig;
}

function sink(overrides: Record<string, unknown>): KafkaSink {
  const s = createKafkaSink(config(overrides), { gatewayId: GATEWAY, log });
  sinks.push(s);
  return s;
}

let seq = 0;
function reading(device: string, value: number, extra: Partial<ReadingRecord> = {}): ReadingRecord {
  seq += 1;
  return {
    v: 1,
    kind: 'reading',
    id: `${GATEWAY}-1-${seq}`,
    device,
    metric: 'temperature',
    value,
    unit: 'C',
    ts: 1_700_000_000_000 + seq,
    receivedAt: 1_700_000_000_000 + seq,
    source: 'mqtt:embedded',
    tags: { site: 'test' },
    ...extra,
  };
}

function alert(device: string): AlertRecord {
  seq += 1;
  return {
    v: 1,
    kind: 'alert',
    id: `${GATEWAY}-1-${seq}`,
    rule: 'too-hot',
    key: device,
    device,
    state: 'raise',
    severity: 'critical',
    message: `${device} is too hot`,
    ts: 1_700_000_000_000 + seq,
    value: 99,
    evidence: [{ metric: 'temperature', value: 99 }],
    tags: {},
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const byId = (messages: readonly ConsumedMessage[]) => new Map(messages.map((m) => [m.headers['weir-id'], m]));

describe('Kafka sink against a real broker', () => {
  it('produces readings and alerts with device keys, weir headers and per-device order', async () => {
    await createTopic(broker.bootstrap, 'rt.gw-test.reading', 3);
    const s = sink({ topics: { readings: 'rt.{gateway}.{kind}', alerts: 'rt.{gateway}.{kind}' } });
    const devices = ['boiler-1', 'boiler-2', 'pump-a', 'pump-b', 'fan-7', 'door-3'];
    const first: PipelineRecord[] = [];
    for (let i = 0; i < 60; i++) first.push(reading(devices[i % devices.length]!, i));
    first.push(reading('pump-a', 1000, { flags: ['replay'] }));
    const hot = alert('boiler-1');
    first.push(hot);
    expect(await s.deliver(first)).toEqual({ kind: 'delivered' });
    // A second batch: each device's key must land where its first records did.
    const second = devices.map((d, i) => reading(d, 2000 + i));
    expect(await s.deliver(second)).toEqual({ kind: 'delivered' });

    const readings = await readTopic(broker.bootstrap, 'rt.gw-test.reading');
    const alerts = await readTopic(broker.bootstrap, 'rt.gw-test.alert');
    const sentReadings = [...first, ...second].filter((r) => r.kind === 'reading');
    expect(readings).toHaveLength(sentReadings.length);
    const got = byId(readings);
    for (const r of sentReadings) {
      const m = got.get(r.id)!;
      expect(JSON.parse(m.value)).toEqual(r);
      expect(m.key).toBe(r.device);
      expect(m.headers).toEqual({
        'weir-id': r.id,
        'weir-gateway': GATEWAY,
        'weir-kind': 'reading',
        ...(r.flags?.includes('replay') ? { 'weir-replay': 'true' } : {}),
      });
    }
    // key -> one partition per device, several partitions in use, and order kept per device.
    const partitionOf = new Map<string, Set<number>>();
    for (const m of readings) partitionOf.set(m.key, (partitionOf.get(m.key) ?? new Set()).add(m.partition));
    for (const [device, parts] of partitionOf) expect(parts.size, device).toBe(1);
    expect(new Set(readings.map((m) => m.partition)).size).toBeGreaterThan(1);
    // The partitions the Java client picks for these keys over 3 partitions
    // (kafka-clients 4.4.0: Utils.toPositive(Utils.murmur2(key)) % 3), so weir and
    // Java producers put a device in the same partition.
    const javaPartition = { 'boiler-1': 0, 'boiler-2': 1, 'pump-a': 2, 'pump-b': 1, 'fan-7': 2, 'door-3': 0 };
    for (const [device, partition] of Object.entries(javaPartition)) expect([...partitionOf.get(device)!], device).toEqual([partition]);
    for (const d of devices) {
      const sentOrder = sentReadings.filter((r) => r.device === d).map((r) => r.id);
      const gotOrder = readings.filter((m) => m.key === d).map((m) => m.headers['weir-id']);
      expect(gotOrder, d).toEqual(sentOrder);
    }

    expect(alerts).toHaveLength(1);
    expect(JSON.parse(alerts[0]!.value)).toEqual(hot);
    expect(alerts[0]!.key).toBe('boiler-1');
    expect(alerts[0]!.headers).toEqual({ 'weir-id': hot.id, 'weir-gateway': GATEWAY, 'weir-kind': 'alert' });
  });

  it.each(KAFKA_COMPRESSIONS)('round-trips a batch compressed with %s', async (compression) => {
    const topic = `compression-${compression}`;
    const s = sink({ compression, topics: { readings: topic, alerts: topic } });
    const batch = Array.from({ length: 200 }, (_, i) => reading(`dev-${i % 5}`, i));
    expect(await s.deliver(batch)).toEqual({ kind: 'delivered' });
    const got = await readTopic(broker.bootstrap, topic);
    expect(got.map((m) => JSON.parse(m.value))).toEqual(batch);
  });

  it('splits a batch larger than max.message.bytes and rejects a single record that is larger', async () => {
    const topic = 'small-messages';
    await createTopic(broker.bootstrap, topic, 1, { 'max.message.bytes': '4096' });
    const s = sink({ compression: 'none', topics: { readings: topic, alerts: topic } });
    // ~60 records of ~300 bytes: far over 4 KiB as one request, each one fits.
    const fits = Array.from({ length: 60 }, (_, i) => reading('dev-big', i));
    expect(await s.deliver(fits)).toEqual({ kind: 'delivered' });
    expect((await readTopic(broker.bootstrap, topic)).map((m) => m.headers['weir-id'])).toEqual(fits.map((r) => r.id));

    const huge = reading('dev-big', 'x'.repeat(10_000) as unknown as number);
    const outcome = await s.deliver([reading('dev-big', 1), huge]);
    expect(outcome.kind).toBe('rejected');
    expect(outcome.kind === 'rejected' && outcome.reason).toMatch(new RegExp(`record ${huge.id} .*MESSAGE_TOO_LARGE`));
  });

  it.each([
    ['stopped (SIGTERM)', 'halt'],
    ['killed (SIGKILL)', 'crash'],
  ] as const)('returns retry while the broker is %s mid-stream, then delivers everything once it is back', async (_, stop) => {
    const topic = `outage-${stop}`;
    await createTopic(broker.bootstrap, topic, 3);
    const s = sink({ topics: { readings: topic, alerts: topic }, deliveryTimeout: '10s', requestTimeout: '3s', connectTimeout: '2s' });
    const devices = ['d1', 'd2', 'd3', 'd4'];
    const batches: ReadingRecord[][] = [];
    const outcomes: { batch: number; outcome: DeliveryOutcome; ms: number }[] = [];
    let delivered = 0;
    let restarted = false;
    let afterRestart = 0;
    // What the delivery loop does: the same batch again until the sink takes it,
    // here until five batches went through after the restart.
    const loop = (async () => {
      for (let b = 0; afterRestart < 5; b++) {
        if (b > 2000) throw new Error('the broker never went down');
        const batch = Array.from({ length: 20 }, (_, i) => reading(devices[i % 4]!, b * 100 + i));
        batches.push(batch);
        for (let attempt = 0; ; attempt++) {
          const t0 = performance.now();
          const outcome = await s.deliver(batch);
          outcomes.push({ batch: b, outcome, ms: performance.now() - t0 });
          if (outcome.kind === 'delivered') break;
          if (outcome.kind !== 'retry') throw new Error(`batch ${b}: ${JSON.stringify(outcome)}`);
          if (attempt > 300) throw new Error(`batch ${b} never delivered: ${JSON.stringify(outcome)}`);
          await sleep(200);
        }
        delivered += 1;
        if (restarted) afterRestart += 1;
        await sleep(20);
      }
    })();
    let loopError: unknown;
    const loopDone = loop.then(
      () => true,
      (e: unknown) => ((loopError = e), true),
    );
    const retryCount = () => outcomes.filter((o) => o.outcome.kind === 'retry').length;
    const waitFor = async (what: string, done: () => boolean, ms: number) => {
      for (const until = Date.now() + ms; !done(); await sleep(50)) {
        if (loopError) throw loopError;
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}; outcomes: ${JSON.stringify(outcomes.slice(-5))}`);
      }
    };
    let down = false;
    try {
      await waitFor('8 delivered batches', () => delivered >= 8, 30_000);
      down = true;
      await broker[stop]();
      await waitFor('3 retry outcomes', () => retryCount() >= 3, 60_000);
    } finally {
      // Whatever failed above, the next tests need the broker back.
      if (down) await broker.restart();
      restarted = true;
    }
    await loopDone;
    if (loopError) throw loopError;

    const retries = outcomes.filter((o) => o.outcome.kind === 'retry');
    expect(retries.length).toBeGreaterThanOrEqual(3);
    // Bounded: no deliver call hangs past deliveryTimeout.
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(11_000);

    const got = await readTopic(broker.bootstrap, topic);
    const sent = batches.flat();
    const sentIds = new Set(sent.map((r) => r.id));
    const gotIds = got.map((m) => m.headers['weir-id']!);
    for (const id of gotIds) expect(sentIds.has(id)).toBe(true);
    expect(new Set(gotIds).size).toBe(sent.length);
    // Duplicates may only be records of batches that saw a retry.
    const retriedBatches = new Set(retries.map((o) => o.batch));
    const retriedIds = new Set([...retriedBatches].flatMap((b) => batches[b]!.map((r) => r.id)));
    const duplicates = gotIds.length - new Set(gotIds).size;
    const seen = new Set<string>();
    for (const id of gotIds) {
      if (seen.has(id)) expect(retriedIds.has(id), `duplicate ${id}`).toBe(true);
      seen.add(id);
    }
    // Per device, first appearances are in the order sent.
    for (const d of devices) {
      const firsts = [...new Set(got.filter((m) => m.key === d).map((m) => m.headers['weir-id']))];
      expect(firsts, d).toEqual(sent.filter((r) => r.device === d).map((r) => r.id));
    }
    console.info(
      `outage (${stop}): ${retries.length} retry outcomes (longest deliver ${Math.round(Math.max(...retries.map((o) => o.ms)))} ms), ${duplicates} duplicate records of ${sent.length}`,
    );
  }, 180_000);
});

describe('Kafka sink security against a real broker', () => {
  const secure = () => {
    const sasl = broker.listeners['SASL_PLAINTEXT']!;
    const ssl = broker.listeners['SSL']!;
    return { sasl, ssl };
  };

  it.each(['plain', 'scram-sha-256', 'scram-sha-512'] as const)('authenticates with SASL %s', async (mechanism) => {
    const topic = `sasl-${mechanism}`;
    const s = sink({ brokers: [secure().sasl], sasl: { mechanism, username: 'weir', password: 'weir-secret' }, topics: { readings: topic, alerts: topic } });
    const batch = [reading('sasl-dev', 1), reading('sasl-dev', 2)];
    expect(await s.deliver(batch)).toEqual({ kind: 'delivered' });
    expect((await readTopic(broker.bootstrap, topic)).map((m) => m.headers['weir-id'])).toEqual(batch.map((r) => r.id));
  });

  it('retries later (not rejects) on a wrong password', async () => {
    const s = sink({ brokers: [secure().sasl], sasl: { mechanism: 'scram-sha-256', username: 'weir', password: 'wrong' }, topics: { readings: 'sasl-wrong', alerts: 'sasl-wrong' } });
    const outcome = await s.deliver([reading('sasl-dev', 3)]);
    expect(outcome).toMatchObject({ kind: 'retry', afterMs: 30_000 });
  });

  it('rejects a batch the user is not authorized to write', async () => {
    const s = sink({ brokers: [secure().sasl], sasl: { mechanism: 'plain', username: 'nobody', password: 'nobody-secret' }, topics: { readings: 'acl-denied', alerts: 'acl-denied' } });
    const outcome = await s.deliver([reading('acl-dev', 1)]);
    expect(outcome.kind).toBe('rejected');
    expect(outcome.kind === 'rejected' && outcome.reason).toMatch(/AUTHORIZATION_FAILED/);
  });

  it('delivers over TLS with the CA file, and retries when the certificate is not trusted', async () => {
    const topic = 'tls-topic';
    // A relative CA path resolves against the config's directory (here the broker's).
    const ok = createKafkaSink(config({ brokers: [secure().ssl], tls: { ca: 'tls/ca.pem' }, topics: { readings: topic, alerts: topic } }), {
      gatewayId: GATEWAY,
      log,
      baseDir: broker.dir,
    });
    sinks.push(ok);
    const batch = [reading('tls-dev', 1)];
    expect(await ok.deliver(batch)).toEqual({ kind: 'delivered' });
    expect((await readTopic(broker.bootstrap, topic)).map((m) => m.headers['weir-id'])).toEqual(batch.map((r) => r.id));

    const untrusted = sink({ brokers: [secure().ssl], tls: {}, topics: { readings: topic, alerts: topic }, deliveryTimeout: '10s' });
    const outcome = await untrusted.deliver([reading('tls-dev', 2)]);
    expect(outcome.kind).toBe('retry');
  });
});

describe('Kafka sink throughput (bounded, printed for BENCHMARKS.md)', () => {
  it('produces small readings in batches of 500 with acks=all', async () => {
    const ms = Number(process.env.WEIR_KAFKA_BENCH_MS ?? 2000);
    const lines: string[] = [];
    for (const compression of ['none', 'lz4', 'gzip'] as const) {
      const topic = `throughput-${compression}`;
      await createTopic(broker.bootstrap, topic, 3);
      const s = sink({ compression, topics: { readings: topic, alerts: topic } });
      // The smallest reading weir makes: ~150 bytes of JSON, plus three headers.
      const make = (n: number) =>
        Array.from({ length: 500 }, (_, i): ReadingRecord => ({
          v: 1, kind: 'reading', id: `gw-1-${n + i}`, device: `d${i % 50}`, metric: 't', value: 21.5,
          ts: 1_700_000_000_000 + n + i, receivedAt: 1_700_000_000_000 + n + i, source: 'mqtt:e', tags: {},
        }));
      expect(await s.deliver(make(0))).toEqual({ kind: 'delivered' }); // warm-up: connections, producer id
      let records = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < ms) {
        expect(await s.deliver(make(records + 500))).toEqual({ kind: 'delivered' });
        records += 500;
      }
      const seconds = (performance.now() - t0) / 1000;
      const bytes = Buffer.byteLength(JSON.stringify(make(0)[0]));
      lines.push(`${compression}: ${Math.round(records / seconds)} records/s (${records} records of ${bytes} B in ${seconds.toFixed(1)} s)`);
    }
    console.info(`Kafka sink throughput, batches of 500, acks=all, idempotent:\n  ${lines.join('\n  ')}`);
  }, 120_000);
});
