/**
 * The Kafka sink without a broker: its config schema, creation-time checks, the
 * record -> message mapping, and the delivery deadline against a mute socket.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Value } from '@sinclair/typebox/value';
import type { AlertRecord, ReadingRecord } from '../gateway/core/records.js';
import { isWeirError } from '../gateway/core/errors.js';
import { createKafkaSink, KafkaSinkConfigSchema, toKafkaMessage, type KafkaSinkConfig } from '../gateway/sinks/kafka/index.js';

const log = pino({ level: process.env.WEIR_TEST_LOG ?? 'silent' });
const GATEWAY = 'gw-test';

function sink(overrides: Record<string, unknown>) {
  const config = Value.Default(KafkaSinkConfigSchema, { kind: 'kafka', name: 'kafka-test', ...overrides }) as KafkaSinkConfig;
  expect([...Value.Errors(KafkaSinkConfigSchema, config)]).toEqual([]);
  return createKafkaSink(config, { gatewayId: GATEWAY, log });
}

function reading(device: string, value: number, extra: Partial<ReadingRecord> = {}): ReadingRecord {
  return { v: 1, kind: 'reading', id: `${GATEWAY}-1-1`, device, metric: 't', value, ts: 1, receivedAt: 1, source: 'mqtt:embedded', tags: {}, ...extra };
}

function alert(device: string): AlertRecord {
  return {
    v: 1, kind: 'alert', id: `${GATEWAY}-1-2`, rule: 'too-hot', key: device, device, state: 'raise',
    severity: 'critical', message: 'too hot', ts: 1, evidence: [], tags: {},
  };
}

describe('Kafka sink without a broker', () => {
  it('returns retry at deliveryTimeout when a "broker" accepts connections and never answers', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const s = sink({ brokers: [`127.0.0.1:${port}`], deliveryTimeout: '1s', requestTimeout: '20s' });
      const t0 = performance.now();
      const outcome = await s.deliver([reading('mute', 1)]);
      expect(outcome).toEqual({ kind: 'retry', reason: 'no acknowledgement within 1000 ms' });
      expect(performance.now() - t0).toBeLessThan(3000);
      await s.close();
    } finally {
      silent.close();
    }
  });

  it('keys an alert without a device by its rule key and marks replays', () => {
    const topics = { reading: 'r', alert: 'a' };
    const { device: _, ...siteAlert } = alert('x');
    const m = toKafkaMessage({ ...siteAlert, key: 'site=hall-7' }, topics, GATEWAY);
    expect(m).toMatchObject({ topic: 'a', key: 'site=hall-7', headers: { 'weir-kind': 'alert' } });
    const r = toKafkaMessage(reading('d', 1, { flags: ['out-of-range', 'replay'] }), topics, GATEWAY);
    expect(r.headers).toMatchObject({ 'weir-replay': 'true' });
    expect(toKafkaMessage(reading('d', 1), topics, GATEWAY).headers).not.toHaveProperty('weir-replay');
  });
});

describe('Kafka sink config', () => {
  const check = (c: unknown) => [...Value.Errors(KafkaSinkConfigSchema, Value.Default(KafkaSinkConfigSchema, c))].map((e) => `${e.path}: ${e.message}`);

  it('accepts a minimal config and fills defaults', () => {
    const c = Value.Default(KafkaSinkConfigSchema, { kind: 'kafka', name: 'k', brokers: ['kafka:9092'] }) as KafkaSinkConfig;
    expect(check(c)).toEqual([]);
    expect(c.topics).toEqual({ readings: 'weir.readings', alerts: 'weir.alerts' });
    expect(c.compression).toBe('gzip');
    expect(c.deliveryTimeout).toBe('30s');
  });

  it('rejects unknown keys, bad brokers, unsupported compression and SASL mechanisms, acks settings', () => {
    expect(check({ kind: 'kafka', name: 'k', brokers: ['kafka:9092'], acks: 1 })).not.toEqual([]);
    expect(check({ kind: 'kafka', name: 'k', brokers: ['kafka'] })).not.toEqual([]);
    expect(check({ kind: 'kafka', name: 'k', brokers: [] })).not.toEqual([]);
    expect(check({ kind: 'kafka', name: 'k', brokers: ['kafka:9092'], compression: 'zstd' })).not.toEqual([]);
    expect(check({ kind: 'kafka', name: 'k', brokers: ['kafka:9092'], topics: { readings: 'a b' } })).not.toEqual([]);
    expect(check({ kind: 'kafka', name: 'k', brokers: ['kafka:9092'], topics: { readings: 'x', extra: 'y' } })).not.toEqual([]);
    expect(check({ kind: 'kafka', name: 'k', brokers: ['kafka:9092'], sasl: { mechanism: 'gssapi', username: 'u', password: 'p' } })).not.toEqual([]);
    expect(check({ kind: 'kafka', name: 'k', brokers: ['kafka:9092'], tls: { ca: 'ca.pem', verify: false } })).not.toEqual([]);
    expect(check({ kind: 'kafka', name: 'k', brokers: ['kafka:9092'], deliveryTimeout: '30 seconds' })).not.toEqual([]);
  });

  it('fails at creation on unreadable TLS files, a lone cert, or a template that makes an illegal topic', () => {
    const base = Value.Default(KafkaSinkConfigSchema, { kind: 'kafka', name: 'k', brokers: ['kafka:9092'] }) as KafkaSinkConfig;
    const create = (c: KafkaSinkConfig, gatewayId = GATEWAY) => () => createKafkaSink(c, { gatewayId, log });
    expect(create({ ...base, tls: { ca: '/nonexistent/ca.pem', rejectUnauthorized: true } })).toThrow(expect.objectContaining({ code: 'TLS_FILES_UNREADABLE' }));
    expect(create({ ...base, tls: { cert: '/nonexistent/c.pem', rejectUnauthorized: true } })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    let thrown: unknown;
    try {
      createKafkaSink({ ...base, topics: { readings: 'weir.{gateway}', alerts: 'a' } }, { gatewayId: 'hall 7/gw', log });
    } catch (e) {
      thrown = e;
    }
    expect(isWeirError(thrown, 'CONFIG_INVALID')).toBe(true);
  });
});
