/** The disk budget: drop-oldest keeps alerts ahead of readings, reject-new refuses, maxAge expires; every drop counted. */
import { afterEach, describe, expect, it } from 'vitest';
import { alert, ids, open, reading, tempDir } from './buffer-fixtures.js';
import { VirtualClock } from '../gateway/core/clock.js';
import { Metrics } from '../gateway/metrics/metrics.js';
import { openBuffer } from '../gateway/buffer/open.js';
import { bufferConfig } from '../gateway/buffer/config.js';
import { isWeirError } from '../gateway/core/errors.js';
import { silent } from './buffer-fixtures.js';
import type { DiskBuffer } from '../gateway/buffer/buffer.js';

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function fresh(config: unknown, extra: { clock?: VirtualClock; metrics?: Metrics } = {}): Promise<DiskBuffer> {
  const t = tempDir();
  const buf = await openBuffer({ dir: t.dir, config: bufferConfig(config), sinks: ['a', 'b'], log: silent, ...extra });
  cleanup.push(t.dispose, () => buf.close());
  return buf;
}

const small = { maxBytes: '16KiB', segmentSize: '4KiB' };

describe('buffer budget: drop-oldest', () => {
  it('drops the oldest readings first, keeps every alert, stays within maxBytes and counts each drop', async () => {
    const metrics = new Metrics();
    const buf = await fresh(small, { metrics });
    for (let i = 0; i < 600; i++) {
      await buf.append([i % 20 === 0 ? alert(i) : reading(i)]);
      expect(buf.stats().bytes).toBeLessThanOrEqual(16 * 1024);
    }
    const s = buf.stats();
    expect(s.dropped['max-bytes'].readings).toBeGreaterThan(400);
    expect(s.dropped['max-bytes'].alerts).toBe(0);
    const left = await buf.read('a', 10_000);
    const alerts = left.filter((b) => b.record.kind === 'alert');
    expect(ids(alerts)).toEqual(Array.from({ length: 30 }, (_, k) => `gw-1-a${k * 20}`));
    // what is left is in order and ends with the newest reading
    expect(left.map((b) => b.offset)).toEqual([...left.map((b) => b.offset)].sort((x, y) => (x < y ? -1 : 1)));
    expect(ids(left).at(-1)).toBe('gw-1-599');
    expect(s.records).toBe(left.length);
    // compaction folds alert-only segments together instead of leaving one small file per dropped segment
    expect(s.segments).toBeLessThanOrEqual(8);
    // every record appended is either still here or counted as dropped
    expect(left.length + s.dropped['max-bytes'].readings).toBe(600);
    const metric = await metrics.registry.getSingleMetricAsString('weir_buffer_dropped_total');
    expect(metric).toContain(`weir_buffer_dropped_total{reason="max-bytes",kind="reading"} ${s.dropped['max-bytes'].readings}`);
  });

  it('drops the oldest alerts too once nothing but alerts is left', async () => {
    const buf = await fresh(small);
    for (let i = 0; i < 300; i++) await buf.append([alert(i)]);
    const s = buf.stats();
    expect(s.bytes).toBeLessThanOrEqual(16 * 1024);
    expect(s.dropped['max-bytes'].alerts).toBeGreaterThan(0);
    const left = await buf.read('a', 10_000);
    expect(left.length + s.dropped['max-bytes'].alerts).toBe(300);
    expect(ids(left).at(-1)).toBe('gw-1-a299');
  });

  it('does not count records every sink already had as drops', async () => {
    const buf = await fresh(small);
    for (let i = 0; i < 600; i++) {
      await buf.append([reading(i)]);
      await buf.ack('a', BigInt(i));
      await buf.ack('b', BigInt(i));
    }
    expect(buf.stats().dropped['max-bytes']).toEqual({ readings: 0, alerts: 0 });
  });
});

describe('buffer budget: drops racing reads', () => {
  it('a sink reading and acking while drop-oldest compacts and deletes segments sees rising offsets and no damage', async () => {
    const buf = await fresh(small);
    let done = false;
    let last = -1n;
    let seen = 0;
    const reader = (async () => {
      while (!done) {
        const batch = await buf.read('a', 50);
        for (const b of batch) {
          expect(b.offset > last).toBe(true);
          last = b.offset;
        }
        seen += batch.length;
        if (batch.length > 0) await buf.ack('a', batch[batch.length - 1]!.offset);
        else await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 0; i < 1500; i++) await buf.append([i % 50 === 0 ? alert(i) : reading(i)]);
    done = true;
    await reader;
    const s = buf.stats();
    expect(s.recovery.readDamage).toBe(0);
    expect(s.dropped['max-bytes'].readings).toBeGreaterThan(0);
    expect(seen).toBeGreaterThan(0);
    // sink b never acked: it still has every alert
    const alerts = await buf.read('b', 10_000, { kind: 'alert' });
    expect(alerts.length).toBe(30);
    expect(s.dropped['max-bytes'].alerts).toBe(0);
  });
});

describe('buffer budget: reject-new', () => {
  it('refuses appends with BUFFER_FULL once full, keeps room for alerts, counts refusals, and accepts again after acks', async () => {
    const buf = await fresh({ ...small, whenFull: 'reject-new' });
    let refused: unknown;
    let accepted = 0;
    for (let i = 0; i < 600 && !refused; i++) {
      await buf.append([reading(i)]).then(() => accepted++, (e: unknown) => (refused = e));
    }
    expect(isWeirError(refused, 'BUFFER_FULL')).toBe(true);
    expect((refused as Error).message).toMatch(/full.*reject-new/);
    expect(buf.stats().dropped.rejected).toEqual({ readings: 1, alerts: 0 });
    // nothing already buffered was dropped
    expect((await buf.read('a', 10_000)).length).toBe(accepted);
    // the last 5% is for alerts
    await buf.append([alert(1)]);
    await expect(buf.append([reading(9999)])).rejects.toMatchObject({ code: 'BUFFER_FULL' });
    expect(buf.stats().dropped.rejected.readings).toBe(2);
    // once both sinks have everything, whole segments are reclaimed and appends flow again
    await buf.ack('a', buf.nextOffset() - 1n);
    await buf.ack('b', buf.nextOffset() - 1n);
    await buf.append([reading(10_000)]);
    expect(ids(await buf.read('a', 10))).toEqual(['gw-1-10000']);
  });

  it('refuses an append larger than the whole budget under either policy', async () => {
    const buf = await fresh(small);
    const big = Array.from({ length: 200 }, (_, i) => reading(i));
    await expect(buf.append(big)).rejects.toMatchObject({ code: 'BUFFER_FULL' });
    expect(buf.stats().records).toBe(0);
  });
});

describe('buffer budget: maxAge', () => {
  it('drops records older than maxAge, counted as max-age, and keeps newer ones', async () => {
    const clock = new VirtualClock(1_000_000);
    const buf = await fresh({ maxAge: '1h' }, { clock });
    for (let i = 0; i < 10; i++) await buf.append([i === 3 ? alert(i) : reading(i)]);
    clock.advanceBy(30 * 60_000);
    await settle();
    await buf.append([reading(100)]);
    clock.advanceBy(31 * 60_000);
    await settle();
    const s = buf.stats();
    expect(s.dropped['max-age']).toEqual({ readings: 9, alerts: 1 });
    expect(ids(await buf.read('a', 100))).toEqual(['gw-1-100']);
    clock.advanceBy(2 * 60 * 60_000);
    await settle();
    expect(buf.stats().records).toBe(0);
    expect(await buf.read('b', 100)).toEqual([]);
  });
});

/** Lets timer-started log work (which runs on promises) finish. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 5));
}
