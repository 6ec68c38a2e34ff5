/** Append, read and acknowledge: order, per-sink cursors, the alert lane, reclamation, restarts. */
import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { alert, ids, open, reading, tempDir } from './buffer-fixtures.js';
import { describeRecordBuffer } from './buffer-contract.js';
import { Metrics } from '../gateway/metrics/metrics.js';
import { openBuffer } from '../gateway/buffer/open.js';
import { bufferConfig } from '../gateway/buffer/config.js';
import { silent } from './buffer-fixtures.js';
import type { DiskBuffer } from '../gateway/buffer/buffer.js';

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function fresh(options: Parameters<typeof open>[1] = {}): Promise<{ dir: string; buf: DiskBuffer }> {
  const t = tempDir();
  const buf = await open(t.dir, options);
  cleanup.push(t.dispose, () => buf.close());
  return { dir: t.dir, buf };
}

describeRecordBuffer('disk buffer', async () => {
  const t = tempDir();
  const buffer = await open(t.dir);
  return { buffer, dispose: async () => (await buffer.close(), t.dispose()) };
});

describe('disk buffer: offsets, group commit, reclamation', () => {
  it('numbers records from 0 and keeps a stats line per sink', async () => {
    const { buf } = await fresh();
    await buf.append([1, 2, 3, 4].map((i) => reading(i)));
    await buf.ack('a', 3n);
    await buf.ack('b', 0n);
    expect((await buf.read('b', 10)).map((b) => b.offset)).toEqual([1n, 2n, 3n]);
    const s = buf.stats();
    expect(s.perSink.a).toMatchObject({ cursor: 4, lag: 0, oldestUnsentMs: null, timeToDrainMs: 0 });
    expect(s.perSink.b).toMatchObject({ cursor: 1, lag: 3 });
    expect(s.perSink.b!.oldestUnsentMs).toBeGreaterThanOrEqual(0);
    expect(s.perSink.b!.drainRate).toBeGreaterThanOrEqual(0);
    expect(s).toMatchObject({ records: 4, alerts: 0, nextOffset: 4, segments: 1 });
    expect(s.bytesWritten).toBe(s.bytes);
  });

  it('passes the cursor over alerts acked ahead, and says where it is', async () => {
    const { buf } = await fresh();
    await buf.append([reading(1), alert(2), reading(3)]);
    await buf.ackEach('a', [1n]);
    await buf.ack('a', 0n);
    expect(buf.stats().perSink.a!.cursor).toBe(2);
    expect(buf.stats().perSink.a!.lag).toBe(1);
  });


  it('coalesces concurrent appends into one write and fsync (group commit)', async () => {
    const { buf } = await fresh();
    await Promise.all(Array.from({ length: 200 }, (_, i) => buf.append([reading(i)])));
    const s = buf.stats();
    expect(s.records).toBe(200);
    expect(s.fsyncs).toBeLessThanOrEqual(2);
    expect(ids(await buf.read('a', 500))).toEqual(Array.from({ length: 200 }, (_, i) => `gw-1-${i}`));
  });

  it('tells its onDurable listeners once per group commit (the delivery loops wake there)', async () => {
    const { buf } = await fresh();
    let calls = 0;
    buf.onDurable(() => calls++);
    await Promise.all(Array.from({ length: 50 }, (_, i) => buf.append([reading(i)])));
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBe(buf.stats().fsyncs); // fsync policy always: one fdatasync per commit
    await buf.append([]); // nothing to commit
    expect(calls).toBe(buf.stats().fsyncs);
  });

  it('reclaims a segment once every sink has acked past it, and not before', async () => {
    const { dir, buf } = await fresh({ config: { segmentSize: '4KiB', maxBytes: '1MiB' } });
    for (let i = 0; i < 100; i++) await buf.append([reading(i)]);
    const segments = () => readdirSync(join(dir, 'segments')).length;
    const before = segments();
    expect(before).toBeGreaterThan(3);
    await buf.ack('a', 99n);
    await new Promise((r) => setTimeout(r, 20));
    expect(segments()).toBe(before);
    await buf.ack('b', 60n);
    await new Promise((r) => setTimeout(r, 20));
    expect(segments()).toBeLessThan(before);
    expect(ids(await buf.read('b', 100))[0]).toBe('gw-1-61');
    expect(buf.stats().perSink.b!.lag).toBe(39);
  });

  it('publishes its figures as Prometheus metrics while open', async () => {
    const t = tempDir();
    cleanup.push(t.dispose);
    const metrics = new Metrics();
    const buf = await openBuffer({ dir: t.dir, config: bufferConfig(), sinks: ['a', 'b'], log: silent, metrics });
    await buf.append([reading(1), alert(2), reading(3)]);
    await buf.ack('a', 0n);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^weir_buffer_records 3$/m);
    expect(text).toMatch(/^weir_buffer_sink_lag_records\{sink="a"\} 2$/m);
    expect(text).toMatch(/^weir_buffer_sink_lag_records\{sink="b"\} 3$/m);
    expect(text).toMatch(/^weir_buffer_oldest_unsent_age_seconds\{sink="a"\} \d/m);
    expect(text).toMatch(/^weir_buffer_fsyncs_total [1-9]/m);
    expect(Number(/^weir_buffer_written_bytes_total (\d+)$/m.exec(text)![1])).toBe(buf.stats().bytesWritten);
    await buf.close();
    expect(await metrics.registry.metrics()).not.toMatch(/^weir_buffer_sink_lag_records\{/m);
  });
});
