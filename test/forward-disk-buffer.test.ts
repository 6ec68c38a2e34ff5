/**
 * The delivery loop over the real disk buffer (gateway/buffer): acks move
 * the durable cursors, the alert lane and the telemetry lane together leave
 * nothing behind and nothing twice, and a reopened buffer has nothing left to
 * send.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openBuffer, bufferConfig, bufferDir, type DiskBuffer } from '../gateway/buffer/index.js';
import { Forwarder } from '../gateway/forward/forwarder.js';
import { deliverySettings, type DeliveryConfig } from '../gateway/forward/config.js';
import { SystemClock } from '../gateway/core/clock.js';
import type { PipelineRecord } from '../gateway/core/contracts.js';
import { ScriptedSink, alert, reading } from './lib/forwarding.js';
import { eventually, sleep } from './lib/mqtt.js';

const silent = pino({ level: process.env.WEIR_TEST_LOG ?? 'silent' });
const clock = new SystemClock();
let cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(delivery: Partial<DeliveryConfig>, answer?: ScriptedSink['answer']) {
  const dataDir = mkdtempSync(join(tmpdir(), 'weir-forward-disk-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const open = () => openBuffer({ dir: bufferDir(dataDir), config: bufferConfig({ cursorSync: '10ms' }), sinks: ['up'], log: silent });
  const buffer: DiskBuffer = await open();
  let closed = false;
  cleanup.push(() => (closed ? undefined : buffer.close()));
  const sink = new ScriptedSink('up', () => clock.now(), answer);
  const forwarder = new Forwarder({ buffer, sinks: [{ sink, settings: deliverySettings({ linger: '1ms', ...delivery }) }], dataDir, clock, log: silent });
  cleanup.push(() => forwarder.stop(1000));
  buffer.onDurable(() => forwarder.notify());
  const producer = buffer;
  const reopen = async () => {
    await forwarder.stop();
    await buffer.close();
    closed = true;
    const again = await open();
    cleanup.push(() => again.close());
    return again;
  };
  return { dataDir, buffer, sink, forwarder, producer, reopen };
}

const readingsOf = (sinkCalls: ScriptedSink['calls']) => sinkCalls.flatMap((c) => c.batch).filter((r) => r.kind === 'reading');

describe('forwarding from the disk buffer', () => {
  it('retries in order, acks durably, and a reopened buffer has nothing left for the sink', async () => {
    const t = await setup({ batchSize: 10, backoffMin: '5ms', backoffMax: '20ms' }, (_b, n) => (n % 3 === 1 ? { kind: 'retry', reason: 'flaky' } : { kind: 'delivered' }));
    t.forwarder.start();
    const sent: PipelineRecord[] = [];
    for (let i = 0; i < 50; i++) {
      const batch = [reading('a', i, clock.now()), reading('b', i, clock.now())];
      sent.push(...batch);
      await t.producer.append(batch);
    }
    await eventually(() => t.forwarder.status()[0]!.delivered.records === 100, 10_000, 'all delivered');
    for (const d of ['a', 'b']) {
      const firstSeen = [...new Map(readingsOf(t.sink.calls).filter((r) => r.device === d).map((r) => [r.id, r.value])).values()];
      expect(firstSeen).toEqual([...Array(50).keys()]);
    }
    expect(t.forwarder.status()[0]!.retries).toBeGreaterThan(0);
    await sleep(50); // a cursor save
    const again = await t.reopen();
    expect(await again.read('up', 10)).toEqual([]);
    expect(again.stats().perSink.up?.lag).toBe(0);
  });

  it('with the alert lane, an alert overtakes a paced backlog; every record goes once and the cursor passes all', async () => {
    const t = await setup({ batchSize: 50, drainRate: 500, alertLane: true });
    const backlog = Array.from({ length: 1000 }, (_, i) => reading('d1', i, clock.now()));
    await t.buffer.append(backlog);
    t.forwarder.start();
    await sleep(300);
    const a = alert('overheat', clock.now());
    const appendedAt = Date.now();
    await t.producer.append([a]);
    await eventually(() => t.sink.ids().includes(a.id), 2000, 'the alert delivered');
    const alertLatency = Date.now() - appendedAt;
    const readingsBeforeAlert = readingsOf(t.sink.calls).length;
    expect(readingsBeforeAlert).toBeLessThan(1000); // the backlog was still draining
    expect(alertLatency).toBeLessThan(500);
    await eventually(() => t.forwarder.status()[0]!.delivered.records === 1001, 10_000, 'the backlog drained');
    expect(readingsOf(t.sink.calls).map((r) => (r.kind === 'reading' ? r.value : -1))).toEqual([...Array(1000).keys()]);
    expect(t.sink.ids().filter((id) => id === a.id)).toHaveLength(1);
    await sleep(50);
    const again = await t.reopen();
    expect(await again.read('up', 10)).toEqual([]);
    expect(await again.read('up', 10, { kind: 'alert' })).toEqual([]);
  });

  it('a rejected batch goes to the dead-letter file and its records are acked', async () => {
    const t = await setup({ batchSize: 5 }, (batch) => (batch.some((r) => r.kind === 'reading' && r.value === 7) ? { kind: 'rejected', reason: 'HTTP 400: no sevens' } : { kind: 'delivered' }));
    t.forwarder.start();
    await t.producer.append(Array.from({ length: 20 }, (_, i) => reading('d1', i, clock.now())));
    await eventually(() => t.forwarder.status()[0]!.delivered.records === 15, 5000, 'the rest delivered');
    const dead = readFileSync(join(t.dataDir, 'dead-letter', 'up.ndjson'), 'utf8').trim().split('\n');
    expect(dead.map((l) => (JSON.parse(l) as { record: { value: number } }).record.value)).toEqual([5, 6, 7, 8, 9]);
    await sleep(50);
    const again = await t.reopen();
    expect(await again.read('up', 10)).toEqual([]);
  });
});
