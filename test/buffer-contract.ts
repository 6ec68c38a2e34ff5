/**
 * The RecordBuffer contract as a reusable suite: any implementation (the disk
 * buffer, a test double in the forwarder's tests) must pass it. Call
 * `describeRecordBuffer(name, make)` from a *.test.ts file; `make` returns a
 * fresh, empty buffer with sinks `a` and `b`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordBuffer } from '../gateway/core/contracts.js';
import { alert, ids, reading } from './buffer-fixtures.js';

export type MakeBuffer = () => Promise<{ buffer: RecordBuffer; dispose: () => Promise<void> | void }>;

export function describeRecordBuffer(name: string, make: MakeBuffer): void {
  describe(`RecordBuffer contract: ${name}`, () => {
    let disposers: (() => Promise<void> | void)[] = [];
    afterEach(async () => {
      for (const d of disposers.reverse()) await d();
      disposers = [];
    });
    const fresh = async () => {
      const made = await make();
      disposers.push(made.dispose);
      return made.buffer;
    };

    it('reads records in append order with rising offsets, the same ones again until acked', async () => {
      const buf = await fresh();
      await buf.append([reading(1), reading(2)]);
      await buf.append([reading(3)]);
      const first = await buf.read('a', 10);
      expect(ids(first)).toEqual(['gw-1-1', 'gw-1-2', 'gw-1-3']);
      expect(first[0]!.record).toEqual(reading(1));
      expect(first[1]!.offset > first[0]!.offset && first[2]!.offset > first[1]!.offset).toBe(true);
      expect(ids(await buf.read('a', 2))).toEqual(['gw-1-1', 'gw-1-2']);
      await buf.ack('a', first[1]!.offset);
      expect(ids(await buf.read('a', 10))).toEqual(['gw-1-3']);
      await buf.ack('a', first[2]!.offset);
      expect(await buf.read('a', 10)).toEqual([]);
    });

    it('keeps one cursor per sink', async () => {
      const buf = await fresh();
      await buf.append([1, 2, 3, 4].map((i) => reading(i)));
      const all = await buf.read('a', 10);
      await buf.ack('a', all[3]!.offset);
      await buf.ack('b', all[0]!.offset);
      expect(await buf.read('a', 10)).toEqual([]);
      expect(ids(await buf.read('b', 10))).toEqual(['gw-1-2', 'gw-1-3', 'gw-1-4']);
      expect(buf.stats().perSink.a!.lag).toBe(0);
      expect(buf.stats().perSink.b!.lag).toBe(3);
    });

    it('resolves an empty append, hands out the next offset, rejects an unknown sink', async () => {
      const buf = await fresh();
      await buf.append([]);
      const mark = buf.nextOffset();
      await buf.append([reading(1)]);
      expect((await buf.read('a', 1))[0]!.offset).toBe(mark);
      expect(buf.nextOffset()).toBeGreaterThan(mark);
      await expect(buf.read('nope', 1)).rejects.toThrow();
    });

    it('alert lane, live lane from a mark, and a cursor that passes what was acked out of order', async () => {
      const buf = await fresh();
      await buf.append([reading(1), alert(2), reading(3), reading(4), alert(5), reading(6)]);
      const all = await buf.read('a', 10);
      const off = (id: string) => all.find((b) => b.record.id === id)!.offset;
      const alerts = await buf.read('a', 10, { kind: 'alert' });
      expect(ids(alerts)).toEqual(['gw-1-a2', 'gw-1-a5']);
      await buf.ackEach('a', alerts.map((b) => b.offset));
      expect(ids(await buf.read('a', 10))).toEqual(['gw-1-1', 'gw-1-3', 'gw-1-4', 'gw-1-6']);
      const live = await buf.read('a', 10, { from: off('gw-1-4') });
      expect(ids(live)).toEqual(['gw-1-4', 'gw-1-6']);
      await buf.ackEach('a', live.map((b) => b.offset));
      await buf.ack('a', off('gw-1-1'));
      expect(ids(await buf.read('a', 10))).toEqual(['gw-1-3']);
      await buf.ack('a', off('gw-1-3'));
      expect(await buf.read('a', 10)).toEqual([]);
      expect(buf.stats().perSink.a!.lag).toBe(0);
      // sink b saw none of it
      expect((await buf.read('b', 10)).length).toBe(6);
    });
  });
}
