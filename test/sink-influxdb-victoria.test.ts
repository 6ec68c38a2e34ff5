/**
 * The InfluxDB sink against a real server speaking the v2 write API:
 * VictoriaMetrics from Debian (test/services/victoria-metrics.sh), read back
 * through /api/v1/export after /internal/force_flush. VictoriaMetrics names a
 * series `<measurement>_<field>`, stores booleans as 0/1 and keeps numbers
 * only, so string values are checked by the line-protocol tests instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Value } from '@sinclair/typebox/value';
import { InfluxdbSink } from '../gateway/sinks/influxdb/influxdb-sink.js';
import { InfluxdbSinkConfig } from '../gateway/sinks/influxdb/config.js';
import { createSinks, SinkConfig } from '../gateway/sinks/registry.js';
import { SystemClock } from '../gateway/core/clock.js';
import { Forwarder } from '../gateway/forward/forwarder.js';
import type { PipelineRecord } from '../gateway/core/contracts.js';
import { MemoryBuffer, alert, reading, startVictoriaMetrics, type VictoriaMetrics } from './lib/forwarding.js';
import { eventually } from './lib/mqtt.js';

let vm: VictoriaMetrics;
beforeAll(async () => {
  vm = await startVictoriaMetrics();
}, 300_000);
afterAll(async () => {
  await vm?.stop();
});

const silent = pino({ level: process.env.WEIR_TEST_LOG ?? 'silent' });
// VictoriaMetrics drops samples older than its retention (a month): write near now.
const base = () => Math.floor(Date.now() / 1000) * 1000 - 60_000;

describe('writing to VictoriaMetrics through the v2 write API', () => {
  it('stores values, tags and timestamps as the sink mapped them', async () => {
    const t = base();
    const config = Value.Default(InfluxdbSinkConfig, {
      kind: 'influxdb',
      name: 'vm',
      url: vm.url,
      org: 'acme',
      bucket: 'plant',
      token: 'unused',
      tags: { site: 'plant 1' },
    }) as InfluxdbSinkConfig;
    const sink = new InfluxdbSink(config, { gatewayId: 'gw-a', clock: new SystemClock() });
    const outcome = await sink.deliver([
      reading('boiler,1', 21.5, t, { metric: 'vt_temp', unit: 'C', tags: { zone: 'north=2' } }),
      reading('boiler,1', 22, t + 1000, { metric: 'vt_temp', unit: 'C', tags: { zone: 'north=2' } }),
      reading('door 7', true, t, { metric: 'vt_open' }),
      reading('door 7', false, t + 1000, { metric: 'vt_open', flags: ['replay'] }),
      alert('vt_overheat', t + 500, { value: 81.5, device: 'boiler,1', key: 'boiler,1' }),
    ]);
    expect(outcome).toEqual({ kind: 'delivered' });

    const temp = await vm.exportSeries('{__name__="vt_temp_value"}');
    expect(temp).toEqual([
      {
        metric: { __name__: 'vt_temp_value', device: 'boiler,1', gateway: 'gw-a', site: 'plant 1', unit: 'C', zone: 'north=2' },
        values: [21.5, 22],
        timestamps: [t, t + 1000],
      },
    ]);
    const open = await vm.exportSeries('{__name__="vt_open_value"}');
    expect(open.map((s) => [s.metric.device, s.values, s.timestamps])).toEqual([['door 7', [1, 0], [t, t + 1000]]]);
    const alerts = await vm.exportSeries('{__name__=~"weir_alert_(active|value)", rule="vt_overheat"}');
    expect(alerts.map((s) => [s.metric.__name__, s.metric.severity, s.metric.device, s.values]).sort()).toEqual([
      ['weir_alert_active', 'critical', 'boiler,1', [1]],
      ['weir_alert_value', 'critical', 'boiler,1', [81.5]],
    ]);
  });

  it('forwards a stream from the buffer, every reading of every device, in order', async () => {
    const t = base();
    const dataDir = mkdtempSync(join(tmpdir(), 'weir-vm-forward-'));
    const buffer = new MemoryBuffer();
    const sinkConfig = Value.Default(SinkConfig, {
      kind: 'influxdb',
      name: 'vm-stream',
      url: vm.url,
      org: 'acme',
      bucket: 'plant',
      measurement: 'vs',
      field: '{metric}',
      delivery: { batchSize: 50, linger: '5ms' },
    }) as SinkConfig;
    const clock = new SystemClock();
    const forwarder = new Forwarder({ buffer, sinks: createSinks([sinkConfig], { gatewayId: 'gw-b', baseDir: dataDir, clock, log: silent }), dataDir, clock, log: silent });
    buffer.onDurable(() => forwarder.notify());
    forwarder.start();
    const devices = ['d1', 'd2', 'd3'];
    for (let i = 0; i < 100; i++) {
      const batch: PipelineRecord[] = devices.map((d) => reading(d, i, t + i * 100, { metric: 'level' }));
      await buffer.append(batch);
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await eventually(() => buffer.cursor('vm-stream') === 300n, 10_000, 'all 300 acked');
    await forwarder.stop();
    rmSync(dataDir, { recursive: true, force: true });

    const series = await vm.exportSeries('{__name__="vs_level", gateway="gw-b"}');
    expect(series.map((s) => s.metric.device).sort()).toEqual(devices);
    for (const s of series) {
      expect(s.values).toEqual([...Array(100).keys()]);
      expect(s.timestamps).toEqual([...Array(100).keys()].map((i) => t + i * 100));
    }
    expect(forwarder.status()[0]).toMatchObject({ delivered: { records: 300 }, retries: 0, rejected: { records: 0 } });
  });

  it('rides out VictoriaMetrics going down mid-stream: everything arrives once it is back, backlog marked replay', async () => {
    const t = base();
    const dataDir = mkdtempSync(join(tmpdir(), 'weir-vm-outage-'));
    const buffer = new MemoryBuffer();
    const sinkConfig = Value.Default(SinkConfig, {
      kind: 'influxdb',
      name: 'vm-outage',
      url: vm.url,
      org: 'acme',
      bucket: 'plant',
      measurement: 'vo',
      field: '{metric}',
      timeout: '1s',
      delivery: { batchSize: 50, linger: '5ms', backoffMin: '20ms', backoffMax: '200ms' },
    }) as SinkConfig;
    const clock = new SystemClock();
    const forwarder = new Forwarder({ buffer, sinks: createSinks([sinkConfig], { gatewayId: 'gw-c', baseDir: dataDir, clock, log: silent }), dataDir, clock, log: silent });
    buffer.onDurable(() => forwarder.notify());
    forwarder.start();
    const devices = ['d1', 'd2'];
    const produce = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        await buffer.append(devices.map((d) => reading(d, i, t + i * 10, { metric: 'level' })));
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    try {
      await produce(0, 100);
      await eventually(() => buffer.cursor('vm-outage') === 200n, 10_000, 'first 200 acked');
      await vm.halt();
      await produce(100, 200);
      await eventually(() => forwarder.status()[0]!.circuit !== 'closed', 10_000, 'circuit open');
      expect(buffer.cursor('vm-outage')).toBe(200n);
      await vm.resume();
      await produce(200, 300);
      await eventually(() => buffer.cursor('vm-outage') === 600n, 20_000, 'all 600 acked');
      const s = forwarder.status()[0]!;
      expect(s).toMatchObject({ circuit: 'closed', rejected: { records: 0 }, delivered: { records: 600 } });
      expect(s.replayed).toBeGreaterThanOrEqual(200);
    } finally {
      await forwarder.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
    const series = await vm.exportSeries('{__name__="vo_level", gateway="gw-c"}');
    expect(series.map((x) => x.metric.device).sort()).toEqual(devices);
    for (const x of series) {
      expect(x.values).toEqual([...Array(300).keys()]);
      expect(x.timestamps).toEqual([...Array(300).keys()].map((i) => t + i * 10));
    }
  });
});
