/**
 * A damaged buffer (issue 4, fault tests): a gateway buffers readings while
 * its sink is down and stops; then a payload byte of a record in the middle of
 * one segment is flipped, a length byte of a record in another is flipped, and
 * the newest segment is cut mid-record (docs/buffer.md, "Recovery"). The
 * gateway starts anyway, /api/status and /metrics say what was skipped, and
 * once the sink answers every other record arrives intact, in order per device.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from './lib/gateway.js';
import { client, eventually } from './lib/mqtt.js';
import {
  forwardingStatus,
  isIncreasing,
  metricSamples,
  publishQos1,
  readFrames,
  seqMessages,
  sinkStatus,
  startInfluxCapture,
  type DiskFrame,
  type InfluxCapture,
} from './lib/fault-peers.js';

const DEVICES = ['d0', 'd1', 'd2', 'd3'];
const READINGS = 800;

let gw: TestGateway | undefined;
let upstream: InfluxCapture | undefined;
afterAll(async () => {
  await gw?.dispose();
  await upstream?.close();
});

const config = (url: string) =>
  [
    'ingest: { republish: { enabled: false } }',
    // small segments, so the damage lands in closed segments and in the newest one
    'buffer: { segmentSize: 16KiB, cursorSync: 100ms }',
    `sinks: [{ kind: influxdb, name: db, url: '${url}', org: o, bucket: b, gzip: true, delivery: { batchSize: 100, linger: 2ms, backoffMin: 20ms, backoffMax: 200ms } }]`,
  ].join('\n');

describe('a torn and corrupted buffer', () => {
  it('starts anyway, reports what it skipped, and delivers everything else intact', async () => {
    upstream = await startInfluxCapture();
    upstream.answer = () => ({ status: 503, body: '{"code":"unavailable","message":"down for the test"}' });
    gw = await startTestGateway(config(upstream.url));
    const dir = gw.dir;
    const pub = await client(gw.mqttUrl, { clientId: 'damage-pub' });
    expect((await publishQos1(pub, seqMessages(DEVICES, 0, READINGS))).acked.length).toBe(READINGS);
    await pub.endAsync();
    await gw.stop();
    expect(upstream.accepted).toEqual([]);

    // ── the damage ──
    const segDir = join(dir, 'data', 'buffer', 'segments');
    const files = readdirSync(segDir).filter((f) => f.endsWith('.log')).sort().map((f) => join(segDir, f));
    expect(files.length).toBeGreaterThanOrEqual(5);
    const before = new Map<number, DiskFrame>();
    for (const f of files) for (const fr of readFrames(f)) before.set(fr.offset, fr);
    expect(before.size).toBe(READINGS);
    const lost: DiskFrame[] = [];
    // a flipped payload byte in the middle of a closed segment: only that record may go
    const damage = (file: string, pick: (frames: DiskFrame[]) => DiskFrame, byteAt: (f: DiskFrame) => number) => {
      const frames = readFrames(file);
      const victim = pick(frames);
      const bytes = readFileSync(file);
      bytes[byteAt(victim)]! ^= 0x01;
      writeFileSync(file, bytes);
      lost.push(victim);
    };
    const middle = (frames: DiskFrame[]) => frames[Math.floor(frames.length / 2)]!;
    damage(files[1]!, middle, (f) => f.at + 28 + Math.floor((f.size - 28) / 2));
    // a flipped length byte (+256): the frame's checksum no longer matches; the scan must resynchronise
    damage(files[3]!, middle, (f) => f.at + 9);
    // the newest segment cut in the middle of its last record's payload
    const newest = files.at(-1)!;
    const tail = readFrames(newest).at(-1)!;
    truncateSync(newest, tail.at + 28 + 10);
    lost.push(tail);
    const lostOffsets = new Set(lost.map((f) => f.offset));

    // ── the gateway starts on it ──
    gw = await startTestGateway(config(upstream.url), { dir });
    const httpUrl = gw.httpUrl;
    const status = await forwardingStatus(httpUrl);
    expect(status.buffer.recovery).toMatchObject({ tornTails: 1, corruptRegions: 2, skippedRecords: 2 });
    expect(status.buffer.recovery.truncatedBytes).toBe(38);
    expect(status.buffer.records).toBe(READINGS - 3);
    const recoveries = await metricSamples(httpUrl, 'weir_buffer_recoveries_total');
    expect(Object.fromEntries(recoveries.map((s) => [s.labels.found, s.value]))).toEqual({ corrupt: 2, 'torn-tail': 1 });
    const dropped = await metricSamples(httpUrl, 'weir_buffer_dropped_total');
    expect(dropped.filter((s) => s.value > 0)).toEqual([{ labels: { reason: 'corrupt', kind: 'unknown' }, value: 2 }]);

    // ── the sink comes back ──
    upstream.answer = () => ({ status: 204 });
    await eventually(async () => (await forwardingStatus(httpUrl)).buffer.perSink.db!.lag === 0, 10_000, 'the buffer to drain');
    const got = upstream.accepted.filter((p) => p.measurement === 'seq');
    const byValue = new Map(got.map((p) => [Number(p.fields.value), p]));
    expect(byValue.size).toBe(got.length); // nothing twice: the first delivery succeeded for each batch
    const expected = [...before.values()].filter((f) => !lostOffsets.has(f.offset));
    expect(got.length).toBe(expected.length);
    for (const f of expected) {
      const r = f.record as { device: string; value: number; ts: number };
      const p = byValue.get(r.value);
      // intact: the device, value and timestamp the record had before the damage
      expect(p, `seq ${r.value}`).toBeDefined();
      expect({ device: p!.tags.device, ts: p!.ts }).toEqual({ device: r.device, ts: r.ts });
      // buffered before this process started: sent as replay
      expect(p!.fields.flags).toBe('replay');
    }
    for (const f of lost) expect(byValue.has((f.record as { value: number }).value)).toBe(false);
    for (const d of DEVICES) expect(isIncreasing(got.filter((p) => p.tags.device === d).map((p) => Number(p.fields.value)))).toBe(true);
    expect(await sinkStatus(httpUrl, 'db')).toMatchObject({ circuit: 'closed', rejected: { records: 0 } });
    console.info(`buffer damage: ${READINGS} buffered, 2 corrupt records skipped, torn tail of 38 bytes cut, ${got.length} delivered intact`);
  }, 30_000);
});
