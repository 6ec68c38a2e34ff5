/** Restarts and damage: what survives a clean stop, a crash, a torn tail and a corrupted record. */
import { afterEach, describe, expect, it } from 'vitest';
import { openSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync, closeSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { alert, ids, memoryLogger, open, reading, silent, tempDir } from './buffer-fixtures.js';
import { SegmentLog } from '../gateway/buffer/log.js';
import { KIND_ALERT, KIND_READING } from '../gateway/buffer/frame.js';
import { segmentName } from '../gateway/buffer/segment.js';

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function dirFor(): string {
  const t = tempDir();
  cleanup.push(t.dispose);
  return t.dir;
}

function segmentFiles(dir: string): string[] {
  return readdirSync(join(dir, 'segments')).sort().map((n) => join(dir, 'segments', n));
}

/** Overwrites bytes at `at` with their complement. */
function flip(file: string, at: number, count = 1): void {
  const image = readFileSync(file);
  const fd = openSync(file, 'r+');
  const bytes = Buffer.from(image.subarray(at, at + count).map((b) => b ^ 0xff));
  writeSync(fd, bytes, 0, bytes.length, at);
  closeSync(fd);
}

/** File position of the frame with this id (the payload holds the id as JSON text). */
function frameStart(file: string, id: string): number {
  const image = readFileSync(file);
  return image.indexOf(`"id":"${id}"`) - 28 - 1; // 28-byte header, then `{`
}

describe('buffer: restarts', () => {
  it('keeps unacked records and every cursor across a clean stop', async () => {
    const dir = dirFor();
    const buf = await open(dir);
    await buf.append([reading(1), reading(2), alert(3), reading(4)]);
    await buf.ack('a', 2n);
    await buf.ackEach('b', [2n]);
    await buf.close();
    const again = await open(dir);
    cleanup.push(() => again.close());
    expect(ids(await again.read('a', 10))).toEqual(['gw-1-4']);
    expect(ids(await again.read('b', 10))).toEqual(['gw-1-1', 'gw-1-2', 'gw-1-4']);
    await again.append([reading(5)]);
    expect((await again.read('a', 10)).map((b) => b.offset)).toEqual([3n, 4n]);
  });

  it('after a crash (no close) keeps every acknowledged append and cursors saved within cursorSync', async () => {
    const dir = dirFor();
    const buf = await open(dir, { config: { cursorSync: '10ms' } });
    for (let i = 0; i < 50; i++) await buf.append([reading(i)]);
    await buf.ack('a', 24n);
    await new Promise((r) => setTimeout(r, 50));
    // no close(): the process "died" here; the lock names this pid, so the reopen takes it over
    const again = await open(dir);
    cleanup.push(() => again.close());
    expect(ids(await again.read('a', 100))).toEqual(Array.from({ length: 25 }, (_, i) => `gw-1-${i + 25}`));
    expect((await again.read('b', 100)).length).toBe(50);
  });

  it('starts a new sink at the head and removes the cursor of a sink no longer configured', async () => {
    const dir = dirFor();
    const buf = await open(dir, { sinks: ['a', 'old'] });
    await buf.append([reading(1), reading(2)]);
    await buf.close();
    const again = await open(dir, { sinks: ['a', 'new'] });
    cleanup.push(() => again.close());
    expect(again.sinks()).toEqual(['a', 'new']);
    expect(await again.read('new', 10)).toEqual([]);
    await again.append([reading(3)]);
    expect(ids(await again.read('new', 10))).toEqual(['gw-1-3']);
    expect(readdirSync(join(dir, 'cursors')).sort()).toEqual(['a.json', 'new.json']);
  });

  it('re-sends everything buffered to a sink whose cursor file is damaged, rather than lose anything', async () => {
    const dir = dirFor();
    const buf = await open(dir);
    await buf.append([reading(1), reading(2)]);
    await buf.ack('a', 1n);
    await buf.close();
    writeFileSync(join(dir, 'cursors', 'a.json'), '{"v":1,"ne');
    const again = await open(dir);
    cleanup.push(() => again.close());
    expect(ids(await again.read('a', 10))).toEqual(['gw-1-1', 'gw-1-2']);
  });
});

describe('buffer: offsets after losing the tail', () => {
  it('never reuses an offset a sink acked (in order or ahead) for a record a power cut took back', async () => {
    const dir = dirFor();
    const buf = await open(dir);
    for (let i = 0; i < 6; i++) await buf.append([reading(i)]);
    await buf.ack('a', 3n);
    await buf.ackEach('b', [5n]);
    await buf.close();
    // the power cut took records 3..5 back (never fsynced), but the cursors had been saved
    const [file] = segmentFiles(dir);
    truncateSync(file!, frameStart(file!, 'gw-1-3'));
    const again = await open(dir);
    cleanup.push(() => again.close());
    await again.append([reading(100), reading(101)]);
    expect(ids(await again.read('a', 10))).toEqual(['gw-1-100', 'gw-1-101']);
    expect(ids(await again.read('b', 10))).toEqual(['gw-1-0', 'gw-1-1', 'gw-1-2', 'gw-1-100', 'gw-1-101']);
    expect(again.nextOffset()).toBe(8n);
  });
});

describe('buffer: damage', () => {
  it('cuts a torn tail (the last segment ends mid-record), keeps the rest and reports it', async () => {
    const dir = dirFor();
    const buf = await open(dir);
    for (let i = 0; i < 10; i++) await buf.append([reading(i)]);
    await buf.close();
    const [file] = segmentFiles(dir);
    truncateSync(file!, statSync(file!).size - 17);
    const { log, lines } = memoryLogger();
    const again = await open(dir, { log });
    cleanup.push(() => again.close());
    expect(ids(await again.read('a', 100))).toEqual(Array.from({ length: 9 }, (_, i) => `gw-1-${i}`));
    expect(again.stats().recovery).toMatchObject({ tornTails: 1, corruptRegions: 0 });
    expect(again.stats().recovery.truncatedBytes).toBeGreaterThan(0);
    expect(lines().some((l) => l.level === 40 && /torn tail/.test(l.msg))).toBe(true);
    // appends go on after the cut, and a second open finds nothing wrong
    await again.append([reading(100)]);
    expect(ids(await again.read('a', 100)).at(-1)).toBe('gw-1-100');
    await again.close();
    const third = await open(dir);
    cleanup.push(() => third.close());
    expect(third.stats().recovery.tornTails).toBe(0);
    expect((await third.read('a', 100)).length).toBe(10);
  });

  it('skips only a corrupted record in the middle (flipped payload bytes), keeps everything around it, reports it', async () => {
    const dir = dirFor();
    const buf = await open(dir);
    for (let i = 0; i < 20; i++) await buf.append([i === 12 ? alert(i) : reading(i)]);
    await buf.close();
    const [file] = segmentFiles(dir);
    flip(file!, frameStart(file!, 'gw-1-10') + 40, 3);
    const { log, lines } = memoryLogger();
    const again = await open(dir, { log });
    cleanup.push(() => again.close());
    const got = ids(await again.read('a', 100));
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => (i === 12 ? 'gw-1-a12' : `gw-1-${i}`)).filter((id) => id !== 'gw-1-10'));
    expect(again.stats().recovery).toMatchObject({ corruptRegions: 1, skippedRecords: 1, tornTails: 0 });
    const warn = lines().find((l) => l.code === 'BUFFER_CORRUPT');
    expect(warn).toMatchObject({ level: 40, records: 1 });
    expect(ids(await again.read('a', 10, { kind: 'alert' }))).toEqual(['gw-1-a12']);
  });

  it('resynchronises after a corrupted length field, in a segment that is not the last', async () => {
    const dir = dirFor();
    const buf = await open(dir, { config: { segmentSize: '4KiB', maxBytes: '1MiB' } });
    for (let i = 0; i < 120; i++) await buf.append([reading(i)]);
    await buf.close();
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThan(2);
    const image = readFileSync(files[0]!);
    const victim = /"id":"(gw-1-\d+)"/.exec(image.subarray(1000).toString('latin1'))![1]!;
    flip(files[0]!, frameStart(files[0]!, victim) + 8); // the low byte of the payload length
    const again = await open(dir);
    cleanup.push(() => again.close());
    const got = ids(await again.read('a', 1000));
    expect(got).toEqual(Array.from({ length: 120 }, (_, i) => `gw-1-${i}`).filter((id) => id !== victim));
    expect(again.stats().recovery).toMatchObject({ corruptRegions: 1, skippedRecords: 1 });
  });

  it('opens a segment that is garbage from start to end, and one that is empty', async () => {
    const dir = dirFor();
    const buf = await open(dir, { config: { segmentSize: '4KiB', maxBytes: '1MiB' } });
    for (let i = 0; i < 120; i++) await buf.append([reading(i)]);
    await buf.close();
    const files = segmentFiles(dir);
    writeFileSync(files[1]!, Buffer.alloc(statSync(files[1]!).size, 0x52));
    writeFileSync(files[2]!, '');
    const lost = (name: string) => Number(/(\d+)\.log$/.exec(name)![1]);
    const expectLost = lost(files[3]!) - lost(files[1]!);
    const again = await open(dir);
    cleanup.push(() => again.close());
    const got = ids(await again.read('a', 1000));
    expect(got.length).toBe(120 - expectLost);
    expect(again.stats().recovery).toMatchObject({ corruptRegions: 2, skippedRecords: expectLost, tornTails: 0 });
    expect(got).toEqual([...got].sort((x, y) => Number(x.slice(5)) - Number(y.slice(5))));
    await again.append([reading(999)]);
    expect(ids(await again.read('a', 1000)).at(-1)).toBe('gw-1-999');
  });

  it('deletes the leftover of a merge cut short by a crash (second file still there), reporting no damage', async () => {
    const dir = join(dirFor(), 'segments');
    const { log } = await SegmentLog.open(dir, { readOnly: false, floor: 0, log: silent });
    const enc = (r: object, kind: 1 | 2) => {
      const payload = Buffer.from(JSON.stringify(r));
      return { kind, payload, length: payload.length };
    };
    await log.append([enc(alert(0), KIND_ALERT), enc(reading(1), KIND_READING)], 1, true, 1 << 20);
    await log.roll();
    await log.append([enc(reading(2), KIND_READING), enc(alert(3), KIND_ALERT), enc(reading(4), KIND_READING)], 2, true, 1 << 20);
    await log.roll();
    const [first, second] = log.segments;
    const leftover = readFileSync(second!.path);
    await log.compact([first!, second!], (f) => f.kind === KIND_ALERT);
    await log.close();
    writeFileSync(second!.path, leftover); // the crash came before the second file was deleted
    const again = await SegmentLog.open(dir, { readOnly: false, floor: 0, log: silent });
    expect(again.recovery).toMatchObject({ corruptRegions: 0, tornTails: 0 });
    expect(again.log.segments.map((s) => [s.base, s.first, s.last, s.count])).toEqual([[0, 0, 3, 2], [5, -1, -1, 0]]);
    expect(readdirSync(dir)).not.toContain(segmentName(second!.base));
    await again.log.close();
  });
});
