/**
 * Sink configs as weir.yaml will hold them under `sinks:`: the kind-keyed
 * union, defaults for every `delivery` knob, errors at the right line, and
 * the registry turning configs into sinks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { pino } from 'pino';
import { parseYamlText, formatProblem } from '../gateway/core/yaml-source.js';
import { applyDefaultsAndValidate } from '../gateway/core/validate.js';
import { SinksConfig, createSinks, type SinkConfig } from '../gateway/sinks/registry.js';
import { deliverySettings } from '../gateway/forward/config.js';
import { SystemClock } from '../gateway/core/clock.js';
import { isWeirError } from '../gateway/core/errors.js';
import type { Sink } from '../gateway/core/contracts.js';

const Root = Type.Object({ sinks: SinksConfig }, { additionalProperties: false });

function load(yaml: string) {
  const { source, problems } = parseYamlText('weir.yaml', yaml);
  if (!source) throw new Error(problems.map(formatProblem).join('\n'));
  const r = applyDefaultsAndValidate(Root, source);
  return { value: r.value, problems: r.problems.map(formatProblem) };
}

const context = { gatewayId: 'gw', baseDir: process.cwd(), clock: new SystemClock(), log: pino({ level: 'silent' }) };
let sinks: Sink[] = [];
afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close();
});

describe('sinks in weir.yaml', () => {
  it('fills every default, delivery section included', () => {
    const r = load(['sinks:', '  - { kind: influxdb, name: tsdb, url: "http://influx:8086", org: acme, bucket: plant }', '  - { kind: mqtt, name: cloud, url: "mqtts://broker:8883" }'].join('\n'));
    expect(r.problems).toEqual([]);
    const [influx, mqtt] = r.value!.sinks;
    expect(influx).toMatchObject({ measurement: '{metric}', field: 'value', alertMeasurement: 'weir_alert', gzip: true, timeout: '10s' });
    expect(mqtt).toMatchObject({ topic: 'weir/{gateway}/{kind}/{device}', qos: 1, rejectUnauthorized: true, ackTimeout: '10s' });
    expect(influx!.delivery).toEqual({
      batchSize: 500,
      maxBatchBytes: '1MiB',
      linger: '10ms',
      backoffMin: '100ms',
      backoffMax: '30s',
      drainRate: 0,
      alertLane: true,
      circuitOpenAfter: 3,
      deadLetterMaxSize: '64MiB',
    });
    expect(deliverySettings(influx!.delivery)).toEqual({
      batchSize: 500,
      maxBatchBytes: 1024 * 1024,
      lingerMs: 10,
      backoffMinMs: 100,
      backoffMaxMs: 30_000,
      drainRate: 0,
      alertLane: true,
      circuitOpenAfter: 3,
      deadLetterMaxBytes: 64 * 1024 * 1024,
    });
  });

  it('reports the errors of the kind chosen, at their line, and rejects unknown keys and kinds', () => {
    const r = load(
      [
        'sinks:',
        '  - kind: influxdb',
        '    name: tsdb',
        '    url: "ftp://x"',
        '    org: acme',
        '    bucket: plant',
        '    delivery: { batchSize: 0, lingr: 5ms }',
        '  - { kind: carrier-pigeon, name: p }',
        '  - { kind: mqtt, name: "../etc", url: "mqtt://x" }',
      ].join('\n'),
    );
    expect(r.problems.join('\n')).toMatch(/weir\.yaml:4:\d+: sinks\.0\.url/);
    expect(r.problems.join('\n')).toMatch(/weir\.yaml:7:\d+: sinks\.0\.delivery\.batchSize/);
    expect(r.problems.join('\n')).toMatch(/sinks\.0\.delivery\.lingr: unknown key/);
    expect(r.problems.join('\n')).toMatch(/sinks\.1\.kind: unknown kind "carrier-pigeon"; expected one of influxdb, mqtt/);
    expect(r.problems.join('\n')).toMatch(/sinks\.2\.name/);
  });
});

describe('the registry', () => {
  it('creates one sink per config with its delivery settings', () => {
    const r = load(['sinks:', '  - { kind: influxdb, name: a, url: "http://127.0.0.1:9", org: o, bucket: b, delivery: { batchSize: 7 } }', '  - { kind: mqtt, name: b, url: "mqtt://127.0.0.1:9" }'].join('\n'));
    const created = createSinks(r.value!.sinks, context);
    sinks = created.map((c) => c.sink);
    expect(created.map((c) => [c.sink.name, c.settings.batchSize])).toEqual([
      ['a', 7],
      ['b', 500],
    ]);
  });

  it('refuses two sinks with one name, and a bad template, at boot', () => {
    const r = load(['sinks:', '  - { kind: mqtt, name: a, url: "mqtt://127.0.0.1:9" }', '  - { kind: mqtt, name: a, url: "mqtt://127.0.0.1:9" }'].join('\n'));
    expect(() => createSinks(r.value!.sinks, context)).toThrow(/used twice/);
    const bad = load(['sinks:', '  - { kind: influxdb, name: a, url: "http://x", org: o, bucket: b, measurement: "{site}" }'].join('\n'));
    let error: unknown;
    try {
      createSinks(bad.value!.sinks as SinkConfig[], context);
    } catch (e) {
      error = e;
    }
    expect(isWeirError(error, 'CONFIG_INVALID')).toBe(true);
  });
});
