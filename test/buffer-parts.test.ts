/** The buffer's small parts: checksum, frames, out-of-order ranges, rates, config. */
import { describe, expect, it } from 'vitest';
import { crc32, tableCrc32 } from '../gateway/buffer/crc.js';
import { HEADER_BYTES, KIND_ALERT, checkFrame, payloadOf, resync, writeFrame, type FrameInfo } from '../gateway/buffer/frame.js';
import { Ranges } from '../gateway/buffer/ranges.js';
import { Rate } from '../gateway/buffer/rate.js';
import { BufferConfig, bufferConfig, bufferLimits } from '../gateway/buffer/config.js';
import { Value } from '@sinclair/typebox/value';

describe('crc32', () => {
  it('the table fallback matches the native one, including continuation', () => {
    const data = Buffer.from('The quick brown fox jumps over the lazy dog');
    expect(tableCrc32(data)).toBe(0x414fa339);
    expect(crc32(data)).toBe(0x414fa339);
    expect(tableCrc32(data.subarray(10), tableCrc32(data.subarray(0, 10)))).toBe(0x414fa339);
  });
});

describe('frames', () => {
  it('round-trips, and any flipped bit is caught', () => {
    const payload = Buffer.from('{"kind":"alert"}');
    const buf = Buffer.alloc(HEADER_BYTES + payload.length);
    writeFrame(buf, 0, 42, 1234.5, KIND_ALERT, payload, payload.length);
    expect(checkFrame(buf, 0)).toMatchObject({ offset: 42, appendedAt: 1234.5, kind: KIND_ALERT, size: buf.length });
    for (let bit = 0; bit < buf.length * 8; bit += 7) {
      const bad = Buffer.from(buf);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(typeof checkFrame(bad, 0)).toBe('string');
    }
    expect(checkFrame(buf.subarray(0, buf.length - 1), 0)).toBe('short');
  });

  it('resync finds the next whole frame after garbage', () => {
    const p = Buffer.from('{"x":"RW RW"}');
    const buf = Buffer.alloc(2 * (HEADER_BYTES + p.length) + 5, 0x52);
    writeFrame(buf, 5 + HEADER_BYTES + p.length, 7, 0, KIND_ALERT, p, p.length);
    expect(resync(buf, 0)).toBe(5 + HEADER_BYTES + p.length);
  });

  it('frames JSON text with multi-byte characters exactly as the same bytes given as a Buffer', () => {
    const text = JSON.stringify({ device: 'Küche-温度', metric: 'temp', value: 21.5, note: '🌡️' });
    const length = Buffer.byteLength(text);
    expect(length).toBeGreaterThan(text.length); // the case that matters: bytes, not UTF-16 units
    const fromText = Buffer.alloc(HEADER_BYTES + length);
    const fromBytes = Buffer.alloc(HEADER_BYTES + length);
    writeFrame(fromText, 0, 9, 1.5, KIND_ALERT, text, length);
    writeFrame(fromBytes, 0, 9, 1.5, KIND_ALERT, Buffer.from(text), length);
    expect(fromText.equals(fromBytes)).toBe(true);
    expect(checkFrame(fromText, 0)).toMatchObject({ offset: 9, size: fromText.length });
    expect(payloadOf(fromText, checkFrame(fromText, 0) as FrameInfo).toString()).toBe(text);
  });
});

describe('ranges of offsets acked out of order', () => {
  it('merges neighbours, answers membership, forgets below a cursor', () => {
    const r = new Ranges();
    for (const o of [5, 7, 6, 10, 3, 4, 12, 11]) r.add(o);
    expect(r.pairs()).toEqual([[3, 7], [10, 12]]);
    expect(r.containing(11)).toEqual([10, 12]);
    expect(r.containing(8)).toBeUndefined();
    expect(r.covered()).toBe(8);
    r.dropBelow(5);
    expect(r.pairs()).toEqual([[5, 7], [10, 12]]);
    r.dropBelow(9);
    expect(r.pairs()).toEqual([[10, 12]]);
    expect(Ranges.from([[20, 22], [1, 2], [3, 4], [9, 1]]).pairs()).toEqual([[1, 4], [20, 22]]);
  });

  it('stays bounded: past the cap the newest ranges are forgotten (a duplicate later, never a loss)', () => {
    const r = new Ranges();
    for (let i = 0; i < 25_000; i++) r.add(i * 2);
    expect(r.size).toBe(10_000);
    expect(r.containing(0)).toEqual([0, 0]);
  });
});

describe('rate', () => {
  it('gives records per second over the last minute', () => {
    const rate = new Rate();
    for (let t = 0; t <= 120_000; t += 1000) rate.add(100, t);
    expect(rate.perSecond(120_000)).toBeCloseTo(100, 0);
    expect(rate.perSecond(300_000)).toBe(0);
    expect(new Rate().perSecond(5)).toBe(0);
  });
});

describe('buffer config', () => {
  it('fills every default from an empty section', () => {
    const c = bufferConfig();
    expect(c).toEqual({ maxBytes: '512MiB', maxAge: '7d', whenFull: 'drop-oldest', segmentSize: '16MiB', fsync: { policy: 'always', interval: '50ms' }, cursorSync: '1s' });
    expect(bufferLimits(c)).toMatchObject({ maxBytes: 512 * 1024 ** 2, maxAgeMs: 7 * 86_400_000, segmentBytes: 16 * 1024 ** 2, fsync: 'always', fsyncIntervalMs: 50 });
    expect(Value.Check(BufferConfig, c)).toBe(true);
  });

  it('rejects unknown keys, bad sizes, and a segment size over a quarter of the budget', () => {
    expect(() => bufferConfig({ maxbytes: '1GiB' })).toThrow(/CONFIG_INVALID|maxbytes|additional/i);
    expect(() => bufferConfig({ fsync: { policy: 'sometimes' } })).toThrow();
    expect(() => bufferConfig({ maxBytes: 'lots' })).toThrow();
    expect(() => bufferLimits(bufferConfig({ maxBytes: '32MiB' }))).toThrow(/segmentSize \(16MiB\) must be at most a quarter/);
  });
});
