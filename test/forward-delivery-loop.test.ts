/**
 * The delivery loop in virtual time, against an in-memory buffer with the
 * contract's read/ack semantics and a scripted sink: order under retries,
 * backoff with jitter and cap, Retry-After, dead letters, the circuit, the
 * replay flag, pacing, the alert lane, notify and stop.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DeliveryLoop } from '../gateway/forward/delivery-loop.js';
import { deliverySettings, type DeliveryConfig } from '../gateway/forward/config.js';
import type { DeliveryOutcome, PipelineRecord } from '../gateway/core/contracts.js';
import { Metrics } from '../gateway/metrics/metrics.js';
import { MemoryBuffer, ScriptedSink, SteppingClock, alert, reading, settle } from './lib/forwarding.js';
import { eventually } from './lib/mqtt.js';

const T0 = 1_800_000_000_000;
const silent = pino({ level: process.env.WEIR_TEST_LOG ?? 'silent' });
const dirs: string[] = [];
const loops: DeliveryLoop[] = [];
afterEach(async () => {
  for (const l of loops.splice(0)) await l.stop(0);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(options: { delivery?: Partial<DeliveryConfig>; answer?: ScriptedSink['answer']; random?: () => number; metrics?: Metrics } = {}) {
  const clock = new SteppingClock(T0);
  const buffer = new MemoryBuffer(() => clock.now());
  const sink = new ScriptedSink('up', () => clock.now(), options.answer);
  const dataDir = mkdtempSync(join(tmpdir(), 'weir-forward-'));
  dirs.push(dataDir);
  const loop = new DeliveryLoop({
    sink,
    buffer,
    settings: deliverySettings({ linger: '0ms', drainRate: 0, alertLane: false, ...options.delivery }),
    dataDir,
    clock,
    log: silent,
    random: options.random ?? (() => 0.5),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
  loops.push(loop);
  const append = async (records: PipelineRecord[]) => {
    await buffer.append(records);
    loop.notify();
  };
  return { clock, buffer, sink, loop, dataDir, append };
}

const readings = (n: number, at: number, device = 'd1') => Array.from({ length: n }, (_, i) => reading(device, i, at));
const retry = (reason = 'down', afterMs?: number): DeliveryOutcome => (afterMs === undefined ? { kind: 'retry', reason } : { kind: 'retry', reason, afterMs });

describe('delivering and acknowledging', () => {
  it('sends what is buffered in order, in batches of batchSize, and acks each batch up to its last offset', async () => {
    const t = setup({ delivery: { batchSize: 4 } });
    const records = readings(10, T0);
    await t.buffer.append(records);
    t.loop.start();
    await t.clock.runFor(10);
    expect(t.sink.calls.map((c) => c.batch.length)).toEqual([4, 4, 2]);
    expect(t.sink.ids()).toEqual(records.map((r) => r.id));
    expect(t.buffer.acks).toEqual([
      ['ack', 'up', 3n],
      ['ack', 'up', 7n],
      ['ack', 'up', 9n],
    ]);
    expect(t.loop.status()).toMatchObject({ state: 'idle', circuit: 'closed', delivered: { records: 10, batches: 3 }, settledOffset: '9' });
  });

  it('cuts a batch at maxBatchBytes but always sends at least one record', async () => {
    const t = setup({ delivery: { batchSize: 100, maxBatchBytes: '600B' } });
    await t.buffer.append(readings(5, T0));
    await t.buffer.append([reading('d1', 'x'.repeat(2000), T0)]);
    t.loop.start();
    await t.clock.runFor(10);
    const sizes = t.sink.calls.map((c) => c.batch.length);
    expect(sizes.reduce((a, b) => a + b)).toBe(6);
    expect(sizes.at(-1)).toBe(1); // the big one alone
    expect(Math.max(...sizes)).toBeLessThan(5);
  });

  it('a notify wakes an idle loop at once: no timer has to fire', async () => {
    const t = setup();
    t.loop.start();
    await t.clock.runFor(100);
    expect(t.loop.status().state).toBe('idle');
    await t.append([reading('d1', 1, t.clock.now())]);
    await settle();
    expect(t.sink.calls).toHaveLength(1);
    expect(t.sink.calls[0]!.at).toBe(T0 + 100); // the virtual clock did not move
  });

  it('with a linger, an idle loop waits that long for company, then sends one batch', async () => {
    const t = setup({ delivery: { linger: '20ms' } });
    t.loop.start();
    await t.clock.runFor(100);
    await t.append([reading('d1', 1, t.clock.now())]);
    await t.clock.runFor(10);
    await t.append([reading('d1', 2, t.clock.now())]);
    expect(t.sink.calls).toHaveLength(0);
    await t.clock.runFor(10);
    expect(t.sink.calls.map((c) => [c.at - T0, c.batch.length])).toEqual([[120, 2]]);
  });

  it('a sink that throws is retried, not fatal', async () => {
    const t = setup({ answer: (_b, n) => (n === 1 ? Promise.reject(new Error('boom')) : { kind: 'delivered' }) });
    await t.buffer.append(readings(2, T0));
    t.loop.start();
    await t.clock.runFor(1000);
    expect(t.sink.calls).toHaveLength(2);
    expect(t.buffer.cursor('up')).toBe(2n);
  });

  it('a failing buffer read is retried after a backoff', async () => {
    const t = setup();
    await t.buffer.append(readings(1, T0));
    t.buffer.failReads = 2;
    t.loop.start();
    await t.clock.runFor(1000);
    expect(t.sink.calls).toHaveLength(1);
  });
});

describe('retries', () => {
  it('retries the same batch, never skipping or reordering, so each device stays in order', async () => {
    const t = setup({ delivery: { batchSize: 3 }, answer: (_b, n) => (n <= 3 ? retry() : { kind: 'delivered' }) });
    const records = [...readings(3, T0, 'a'), ...readings(3, T0, 'b')];
    await t.buffer.append(records);
    t.loop.start();
    await t.clock.runFor(60_000);
    const batches = t.sink.calls.map((c) => c.batch.map((r) => r.id));
    expect(batches.slice(0, 4)).toEqual([0, 1, 2, 3].map(() => records.slice(0, 3).map((r) => r.id)));
    expect(batches[4]).toEqual(records.slice(3).map((r) => r.id));
    expect(t.buffer.acks).toEqual([
      ['ack', 'up', 2n],
      ['ack', 'up', 5n],
    ]);
  });

  it('backs off exponentially with full jitter, capped at backoffMax', async () => {
    const draws = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.999, 0];
    const t = setup({
      delivery: { backoffMin: '100ms', backoffMax: '2s', circuitOpenAfter: 100 },
      random: () => draws.shift() ?? 0.5,
      answer: (_b, n) => (n <= 8 ? retry() : { kind: 'delivered' }),
    });
    await t.buffer.append(readings(1, T0));
    t.loop.start();
    await t.clock.runFor(60_000);
    const at = t.sink.calls.map((c) => c.at - T0);
    const gaps = at.slice(1).map((x, i) => x - at[i]!);
    // bounds 100, 200, 400, 800, 1600, 2000 (capped), 2000, 2000; the draw picks a point below each
    expect(gaps).toEqual([50, 100, 200, 400, 800, 1000, 1998, 0]);
    expect(t.sink.calls).toHaveLength(9);
  });

  it('honours Retry-After as a floor under the jittered delay', async () => {
    const t = setup({ random: () => 0, answer: (_b, n) => (n === 1 ? retry('busy', 5000) : { kind: 'delivered' }) });
    await t.buffer.append(readings(1, T0));
    t.loop.start();
    await t.clock.runFor(4999);
    expect(t.sink.calls).toHaveLength(1);
    expect(t.loop.status().nextAttemptAt).toBe(new Date(T0 + 5000).toISOString());
    await t.clock.runFor(1);
    expect(t.sink.calls.map((c) => c.at - T0)).toEqual([0, 5000]);
  });
});

describe('rejections', () => {
  it('writes a rejected batch with its reason to the dead-letter file, acks it, and the next batch flows', async () => {
    const metrics = new Metrics();
    const t = setup({ metrics, delivery: { batchSize: 2 }, answer: (_b, n) => (n === 1 ? { kind: 'rejected', reason: 'HTTP 400: bad field' } : { kind: 'delivered' }) });
    const records = readings(4, T0);
    await t.buffer.append(records);
    t.loop.start();
    await eventually(async () => (await t.clock.runFor(1), t.buffer.cursor('up') === 4n), 5000, 'all acked');
    const file = join(t.dataDir, 'dead-letter', 'up.ndjson');
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.sink, l.reason, l.offset, (l.record as { id: string }).id])).toEqual([
      ['up', 'HTTP 400: bad field', '0', records[0]!.id],
      ['up', 'HTTP 400: bad field', '1', records[1]!.id],
    ]);
    expect(t.sink.calls[1]!.batch.map((r) => r.id)).toEqual([records[2]!.id, records[3]!.id]);
    expect(t.loop.status()).toMatchObject({ rejected: { records: 2, batches: 1 }, delivered: { records: 2 }, deadLetter: { file, records: 2, dropped: 0 } });
    const text = await metrics.registry.metrics();
    expect(text).toContain('weir_forward_dead_letter_records_total{sink="up"} 2');
    expect(text).toContain('weir_forward_batches_total{sink="up",outcome="rejected"} 1');
  });

  it('past the dead-letter cap, rejected records are counted as dropped, not written', async () => {
    const t = setup({ delivery: { batchSize: 1, deadLetterMaxSize: '700B' }, answer: () => ({ kind: 'rejected', reason: 'no' }) });
    await t.buffer.append(readings(5, T0));
    t.loop.start();
    await eventually(async () => (await t.clock.runFor(1), t.buffer.cursor('up') === 5n), 5000, 'all acked');
    const s = t.loop.status().deadLetter;
    expect(s.records + s.dropped).toBe(5);
    expect(s.dropped).toBeGreaterThan(0);
    expect(readFileSync(s.file, 'utf8').length).toBeLessThanOrEqual(700);
  });

  it('does not ack a rejected batch it could not write down; it keeps trying', async () => {
    const t = setup({ answer: () => ({ kind: 'rejected', reason: 'no' }) });
    // a file where the dead-letter directory should be makes every write fail
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(t.dataDir, 'dead-letter'), 'not a directory');
    await t.buffer.append(readings(1, T0));
    t.loop.start();
    for (let i = 0; i < 20; i++) await t.clock.runFor(50);
    expect(t.buffer.cursor('up')).toBe(0n);
    expect(existsSync(join(t.dataDir, 'dead-letter', 'up.ndjson'))).toBe(false);
  });
});

describe('the circuit', () => {
  it('opens after circuitOpenAfter failures, probes half-open, and closes when the sink answers', async () => {
    let up = false;
    const states: string[] = [];
    const t = setup({ delivery: { circuitOpenAfter: 2 } });
    t.sink.answer = () => {
      states.push(t.loop.status().circuit);
      return up ? { kind: 'delivered' } : retry('connection refused');
    };
    await t.buffer.append(readings(1, T0));
    t.loop.start();
    await t.clock.runFor(10_000);
    const s = t.loop.status();
    expect(s).toMatchObject({ circuit: 'open', state: 'backing-off', lastError: { reason: 'connection refused' }, outageSince: new Date(T0).toISOString() });
    expect(s.consecutiveFailures).toBeGreaterThanOrEqual(3);
    expect(states.slice(0, 3)).toEqual(['closed', 'closed', 'half-open']);
    up = true;
    await t.clock.runFor(60_000);
    expect(t.loop.status()).toMatchObject({ circuit: 'closed', consecutiveFailures: 0, outageSince: null, state: 'idle' });
    expect(t.buffer.cursor('up')).toBe(1n);
  });
});

describe('the replay flag', () => {
  it('marks readings received before the sink recovered, and not those received after', async () => {
    let up = true;
    const t = setup({ delivery: { batchSize: 2 }, answer: () => (up ? { kind: 'delivered' } : retry()) });
    t.loop.start();
    await t.append([reading('d1', 'live-before', t.clock.now())]);
    await t.clock.runFor(10);
    up = false;
    await t.append([reading('d1', 'in-flight', t.clock.now())]);
    await t.clock.runFor(5000);
    await t.append([reading('d1', 'during', t.clock.now()), alert('hot', t.clock.now())]);
    await t.clock.runFor(5000);
    up = true;
    await t.clock.runFor(60_000);
    await t.append([reading('d1', 'after', t.clock.now())]);
    await t.clock.runFor(10);
    // the last attempt of each record is what the upstream kept
    const last = new Map<string, PipelineRecord>();
    for (const c of t.sink.calls) for (const r of c.batch) last.set(r.id, r);
    const flags = [...last.values()].map((r) => [r.kind === 'reading' ? r.value : r.kind, r.kind === 'reading' ? (r.flags ?? []) : 'n/a']);
    expect(flags).toEqual([
      ['live-before', []],
      ['in-flight', ['replay']],
      ['during', ['replay']],
      ['alert', 'n/a'],
      ['after', []],
    ]);
    expect(t.loop.status().replayed).toBe(2);
  });

  it('marks what the buffer held from before this process started (a restart is an outage too)', async () => {
    const t = setup();
    await t.buffer.append([reading('d1', 'from-last-life', T0 - 60_000), reading('d1', 'just-now', T0)]);
    t.loop.start();
    await t.clock.runFor(10);
    expect(t.sink.calls.flatMap((c) => c.batch).map((r) => (r.kind === 'reading' ? [r.value, r.flags ?? []] : []))).toEqual([
      ['from-last-life', ['replay']],
      ['just-now', []],
    ]);
  });
});

describe('paced catch-up', () => {
  it('drains a backlog no faster than drainRate records per second', async () => {
    const t = setup({ delivery: { batchSize: 100, drainRate: 200 } });
    await t.buffer.append(readings(1000, T0));
    t.loop.start();
    await t.clock.runFor(60_000);
    const at = t.sink.calls.map((c) => c.at - T0);
    expect(t.sink.calls).toHaveLength(10);
    // the first batch is the burst allowance; then one batch per 500 ms
    expect(at).toEqual([0, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500]);
  });

  it('sends alerts through their own lane while a telemetry backlog drains', async () => {
    const t = setup({ delivery: { batchSize: 100, drainRate: 100, alertLane: true } });
    await t.buffer.append(readings(1000, T0));
    t.loop.start();
    await t.clock.runFor(2000);
    const a = alert('overheat', t.clock.now());
    await t.append([a]);
    await settle();
    const alertCall = t.sink.calls.find((c) => c.batch.some((r) => r.id === a.id))!;
    expect(alertCall.at - T0).toBe(2000);
    expect(alertCall.batch).toHaveLength(1);
    await t.clock.runFor(20_000);
    // every reading once, in order, and the alert once
    const ids = t.sink.ids();
    expect(ids.filter((id) => id === a.id)).toHaveLength(1);
    expect(t.sink.calls.flatMap((c) => c.batch).filter((r) => r.kind === 'reading').map((r) => r.value)).toEqual([...Array(1000).keys()]);
    expect(t.buffer.cursor('up')).toBe(1001n);
  });

  it('never acks cumulatively past an alert the alert lane has not delivered', async () => {
    let alertsUp = false;
    const t = setup({
      delivery: { batchSize: 2, alertLane: true },
      answer: (batch) => (batch.some((r) => r.kind === 'alert') && !alertsUp ? retry('alerts topic down') : { kind: 'delivered' }),
    });
    await t.buffer.append([reading('d1', 0, T0), alert('a', T0), reading('d1', 1, T0), reading('d1', 2, T0), reading('d1', 3, T0)]);
    t.loop.start();
    await t.clock.runFor(5000);
    // all readings delivered, but the cursor waits below the alert
    expect(t.sink.calls.flatMap((c) => c.batch).filter((r) => r.kind === 'reading').map((r) => r.value)).toEqual([0, 1, 2, 3]);
    expect(t.buffer.cursor('up')).toBe(1n);
    expect(t.buffer.acks.some(([kind, , upTo]) => kind === 'ack' && (upTo as bigint) >= 1n)).toBe(false);
    alertsUp = true;
    await t.clock.runFor(60_000);
    expect(t.buffer.cursor('up')).toBe(5n);
  });
});

describe('stopping', () => {
  it('lets the in-flight batch finish and ack', async () => {
    let release!: () => void;
    const t = setup({ answer: () => new Promise<DeliveryOutcome>((r) => (release = () => r({ kind: 'delivered' }))) });
    await t.buffer.append(readings(3, T0));
    t.loop.start();
    await settle();
    const stopped = t.loop.stop();
    release();
    await stopped;
    expect(t.buffer.cursor('up')).toBe(3n);
    expect(t.loop.status().state).toBe('stopped');
  });

  it('abandons an in-flight batch unacked after abandonAfterMs', async () => {
    let release!: () => void;
    const t = setup({ answer: () => new Promise<DeliveryOutcome>((r) => (release = () => r({ kind: 'delivered' }))) });
    await t.buffer.append(readings(3, T0));
    t.loop.start();
    await settle();
    const stopped = t.loop.stop(1000);
    await t.clock.runFor(1000);
    await stopped;
    release();
    await settle();
    expect(t.buffer.cursor('up')).toBe(0n);
    expect(t.loop.status().state).toBe('stopped');
  });

  it('a backing-off loop stops at once, leaving its batch in the buffer', async () => {
    const t = setup({ answer: () => retry() });
    await t.buffer.append(readings(1, T0));
    t.loop.start();
    await t.clock.runFor(10);
    await t.loop.stop();
    expect(t.buffer.cursor('up')).toBe(0n);
  });
});
