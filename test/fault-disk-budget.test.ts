/**
 * The disk budget spent (issue 4, fault tests): a 64 KiB buffer in 16 KiB
 * segments, its sink down, a few hundred KiB of readings. The budget is weir's
 * own (buffer.maxBytes), so no small tmpfs is needed.
 *
 * - drop-oldest: every publish is acknowledged; the oldest readings go, are
 *   counted by reason, and the newest are what arrives; an alert raised before
 *   the flood is kept ahead of the readings; the buffer reopens clean.
 * - reject-new: once readings are refused the device gets no PUBACK; aedes has
 *   no negative PUBACK in MQTT 3.1.1, so weir's refusal closes the connection
 *   [MQTT-3.3.5-2 allows "acknowledge and drop" or "close"; dropping would lose
 *   data the device then forgets]. Alerts still get in (refused only at 100%).
 *   Everything that was acknowledged arrives; nothing is corrupted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from './lib/gateway.js';
import { client, eventually } from './lib/mqtt.js';
import {
  forwardingStatus,
  metricSamples,
  publishQos1,
  seqMessages,
  sinkStatus,
  startInfluxCapture,
  type InfluxCapture,
  type LinePoint,
} from './lib/fault-peers.js';

const DEVICES = ['d0', 'd1', 'd2', 'd3'];
const MAX_BYTES = 64 * 1024;

const HOT_RULE = `rules:
  - id: too-hot
    kind: threshold
    metric: temp
    when: value > 90
    clear: value < 80
    severity: critical
    message: "{device} at {value}"
`;

let gw: TestGateway | undefined;
let upstream: InfluxCapture | undefined;
afterEach(async () => {
  await gw?.dispose();
  await upstream?.close();
  gw = upstream = undefined;
});

function gatewayDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-fault-budget-'));
  mkdirSync(join(dir, 'rules'));
  writeFileSync(join(dir, 'rules', 'hot.yaml'), HOT_RULE);
  return dir;
}

const config = (url: string, whenFull: string) =>
  [
    'ingest: { republish: { enabled: false } }',
    `buffer: { maxBytes: 64KiB, segmentSize: 16KiB, whenFull: ${whenFull}, cursorSync: 100ms }`,
    'rules: { files: ["rules/*.yaml"], watch: false }',
    `sinks: [{ kind: influxdb, name: db, url: '${url}', org: o, bucket: b, delivery: { batchSize: 100, linger: 2ms, backoffMin: 20ms, backoffMax: 200ms } }]`,
  ].join('\n');

const DOWN = { status: 503, body: '{"message":"down for the test"}' } as const;
const seqOf = (p: LinePoint) => Number(p.fields.value);
const dropCounts = async (httpUrl: string) =>
  Object.fromEntries((await metricSamples(httpUrl, 'weir_buffer_dropped_total')).filter((s) => s.value > 0).map((s) => [`${s.labels.reason}/${s.labels.kind}`, s.value]));

describe('drop-oldest', () => {
  it('keeps the newest readings and the alert, counts every drop by reason, and reopens clean', async () => {
    upstream = await startInfluxCapture();
    upstream.answer = () => DOWN;
    const dir = gatewayDir();
    gw = await startTestGateway(config(upstream.url, 'drop-oldest'), { dir });
    const pub = await client(gw.mqttUrl, { clientId: 'budget-pub' });
    await pub.publishAsync('sensors/boiler-1/temp', '95', { qos: 1 }); // an alert first, then the flood
    const n = 2000; // ~200 bytes a frame: ~6x the budget
    expect((await publishQos1(pub, seqMessages(DEVICES, 0, n))).acked.length).toBe(n); // drop-oldest never refuses
    await pub.publishAsync('sensors/boiler-1/temp', '70', { qos: 1 }); // and its clear, at the end
    await pub.endAsync();

    const s = await forwardingStatus(gw.httpUrl);
    expect(s.buffer.bytes).toBeLessThanOrEqual(MAX_BYTES);
    expect(s.buffer.alerts).toBe(2);
    const droppedReadings = s.buffer.dropped['max-bytes'].readings;
    expect(droppedReadings).toBeGreaterThan(n / 2);
    expect(s.buffer.dropped['max-bytes'].alerts).toBe(0);
    expect(await dropCounts(gw.httpUrl)).toEqual({ 'max-bytes/reading': droppedReadings });
    const buffered = s.buffer.records;

    // what is on disk after compactions opens without a single finding
    await gw.stop();
    gw = await startTestGateway(config(upstream.url, 'drop-oldest'), { dir });
    const reopened = await forwardingStatus(gw.httpUrl);
    expect(reopened.buffer.recovery).toEqual({ tornTails: 0, truncatedBytes: 0, corruptRegions: 0, skippedRecords: 0, readDamage: 0 });
    expect(reopened.buffer.records).toBe(buffered);

    upstream.answer = () => ({ status: 204 });
    const httpUrl = gw.httpUrl;
    await eventually(async () => (await forwardingStatus(httpUrl)).buffer.perSink.db!.lag === 0, 10_000, 'the buffer to drain');
    const readings = upstream.accepted.filter((p) => p.measurement === 'seq');
    const alerts = upstream.accepted.filter((p) => p.measurement === 'weir_alert');
    const temps = upstream.accepted.filter((p) => p.measurement === 'temp');
    // the newest: one unbroken run up to the last reading published
    const seqs = readings.map(seqOf).sort((a, b) => a - b);
    const oldestKept = seqs[0]!;
    expect(seqs).toEqual(Array.from({ length: n - oldestKept }, (_, i) => oldestKept + i));
    // each reading either arrived or was counted as dropped (n seq readings and 2 temp readings were appended)
    expect(readings.length + temps.length + droppedReadings).toBe(n + 2);
    expect(alerts.map((a) => a.fields.state)).toEqual(['raise', 'clear']);
    expect(new Set(readings.map((p) => p.fields.value)).size).toBe(readings.length);
    console.info(`drop-oldest: ${n + 2} readings into a 64 KiB budget, ${droppedReadings} dropped (max-bytes), the newest ${readings.length} and both alerts arrived`);
  }, 30_000);
});

describe('reject-new', () => {
  it('stops acknowledging readings when full (the connection closes), still takes alerts, loses nothing acknowledged', async () => {
    upstream = await startInfluxCapture();
    upstream.answer = () => DOWN;
    gw = await startTestGateway(config(upstream.url, 'reject-new'), { dir: gatewayDir() });
    const httpUrl = gw.httpUrl;
    const messages = seqMessages(DEVICES, 0, 2000);
    const pub = await client(gw.mqttUrl, { clientId: 'budget-pub-reject' });
    const first = await publishQos1(pub, messages, 10);
    // what actually happens: the broker closes the connection on the first refused publish
    expect(first.closed).toBe(true);
    expect(first.acked.length).toBeGreaterThan(100);
    expect(first.acked.length).toBeLessThan(messages.length);
    expect(first.unacked.length).toBeGreaterThan(0);
    const full = await forwardingStatus(httpUrl);
    expect(full.buffer.bytes).toBeLessThanOrEqual(MAX_BYTES);
    expect(full.buffer.bytes).toBeGreaterThan(0.9 * MAX_BYTES);
    expect(full.buffer.dropped.rejected.readings).toBeGreaterThan(0);
    expect(full.buffer.dropped['max-bytes']).toEqual({ readings: 0, alerts: 0 }); // nothing buffered is dropped

    // the device resends what got no PUBACK: refused again, the connection closes again
    const firstUnacked = first.unacked[0]!;
    const again = await client(gw.mqttUrl, { clientId: 'budget-pub-reject' });
    const retry = await publishQos1(again, [messages[firstUnacked]!], 1);
    expect(retry).toMatchObject({ acked: [], closed: true });

    // an alert still gets in: the reading that raises it is refused, the alert (refused only at 100%) is not
    const hot = await client(gw.mqttUrl, { clientId: 'budget-hot' });
    const hotPub = await publishQos1(hot, [{ topic: 'sensors/boiler-1/temp', payload: '95' }], 1);
    expect(hotPub.acked).toEqual([]);
    await eventually(async () => (await forwardingStatus(httpUrl)).buffer.alerts === 1, 5000, 'the alert in the buffer');
    const counts = await dropCounts(httpUrl);
    expect(Object.keys(counts)).toEqual(['rejected/reading']);
    expect(counts['rejected/reading']).toBeGreaterThanOrEqual(3);

    // the sink comes back: every acknowledged reading arrives, the alert too; then the device catches up
    upstream.answer = () => ({ status: 204 });
    await eventually(async () => (await forwardingStatus(httpUrl)).buffer.perSink.db!.lag === 0, 10_000, 'the buffer to drain');
    const arrived = new Set(upstream.accepted.filter((p) => p.measurement === 'seq').map(seqOf));
    const ackedSeqs = first.acked.map((i) => i); // seqMessages: index i carries seq i
    expect(ackedSeqs.filter((s) => !arrived.has(s))).toEqual([]);
    const extra = [...arrived].filter((s) => !ackedSeqs.includes(s));
    expect(upstream.accepted.filter((p) => p.measurement === 'weir_alert').map((p) => p.tags.device)).toEqual(['boiler-1']);
    const resend = await client(gw.mqttUrl, { clientId: 'budget-pub-reject' });
    const rest = await publishQos1(resend, messages.slice(firstUnacked), 10);
    expect(rest).toMatchObject({ closed: false, unacked: [] });
    await eventually(async () => (await forwardingStatus(httpUrl)).buffer.perSink.db!.lag === 0, 10_000, 'the rest delivered');
    const all = new Set(upstream.accepted.filter((p) => p.measurement === 'seq').map(seqOf));
    expect(all.size).toBe(messages.length);
    expect((await forwardingStatus(httpUrl)).buffer.recovery).toMatchObject({ readDamage: 0, corruptRegions: 0 });
    expect(await sinkStatus(httpUrl, 'db')).toMatchObject({ circuit: 'closed', rejected: { records: 0 } });
    await Promise.all([pub, again, hot, resend].map((c) => c.endAsync(true)));
    console.info(
      `reject-new: ${first.acked.length} acknowledged before the budget filled, connection closed with ${first.unacked.length} unacknowledged ` +
        `(${extra.length} of those had been buffered anyway: duplicates once resent), ${counts['rejected/reading']} refused appends counted; all ${messages.length} delivered after the device resent`,
    );
  }, 30_000);
});
