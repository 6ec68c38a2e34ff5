/**
 * Framing, checksums and binary decoders on captured bytes: pure functions,
 * fed in awkward chunks, with the corrupted variants a noisy UART produces.
 */
import { describe, expect, it } from 'vitest';
import { createFramer } from '../devices/decoders/framing/framer.js';
import { slipEncode } from '../devices/decoders/framing/slip.js';
import { cobsDecode, cobsEncode } from '../devices/decoders/framing/cobs.js';
import { crc8, crc16, crc16Bytes } from '../devices/decoders/checksums/crc.js';
import { createFrameCheck } from '../devices/decoders/checksums/frame-check.js';
import { BinaryLayoutDecoder, compileLayout } from '../devices/decoders/binary-layout.js';
import { CsvHeaderDecoder, looksLikeHeader } from '../devices/decoders/csv-header.js';
import type { Framing } from '../devices/serial/schema.js';
import { BINARY_FIELD_PATTERN } from '../devices/profiles/schema.js';

function frame(framing: Framing, chunks: Buffer[]): { frames: string[]; discards: string[] } {
  const frames: string[] = [];
  const discards: string[] = [];
  const f = createFramer(framing, { frame: (b) => frames.push(b.toString('hex')), discard: (code, b) => discards.push(`${code}:${b.length}`) });
  for (const c of chunks) f.push(c);
  return { frames, discards };
}
/** Every split of a stream into two reads, and one byte at a time. */
function splits(stream: Buffer): Buffer[][] {
  const out: Buffer[][] = [[stream], [...stream].map((b) => Buffer.from([b]))];
  for (let i = 1; i < stream.length; i++) out.push([stream.subarray(0, i), stream.subarray(i)]);
  return out;
}
const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');
const ASCII = Buffer.from('123456789');

describe('line framing', () => {
  it('cuts LF lines wherever the reads split them, dropping a CR and empty lines', () => {
    for (const chunks of splits(Buffer.from('a=1\r\n\nb=2\n'))) expect(frame({ kind: 'lf' }, chunks).frames).toEqual([hex('a=1'), hex('b=2')]);
  });
  it('keeps bare LFs inside CRLF lines', () => {
    for (const chunks of splits(Buffer.from('x\ny\r\nz\r\n'))) expect(frame({ kind: 'crlf' }, chunks).frames).toEqual([hex('x\ny'), hex('z')]);
  });
  it('drops an overlong line whole, once, and resumes at the next delimiter', () => {
    const r = frame({ kind: 'lf', maxLength: 8 }, [Buffer.from('0123456789'), Buffer.from('abcdef\nok\n')]);
    expect(r).toEqual({ frames: [hex('ok')], discards: ['FRAME_TOO_LONG:10'] });
  });
});

describe('binary framing', () => {
  it('cuts fixed-length records and finds the sync pattern again after noise', () => {
    const rec = (n: number) => Buffer.from([0xaa, 0x55, n, n]);
    const stream = Buffer.concat([Buffer.from([0x01, 0xaa]), rec(1), rec(2), Buffer.from([0x55, 0x13]), rec(3)]);
    for (const chunks of splits(stream)) {
      const r = frame({ kind: 'fixed', length: 4, sync: 'aa55' }, chunks);
      expect(r.frames).toEqual(['aa550101', 'aa550202', 'aa550303']);
    }
  });
  it('reads length-prefixed frames and resynchronises on a bad length', () => {
    const f = (p: string) => Buffer.concat([Buffer.from([0x7e, p.length]), Buffer.from(p)]);
    const stream = Buffer.concat([f('hi'), Buffer.from([0x7e, 0xff]), f('there')]);
    for (const chunks of splits(stream)) {
      const r = frame({ kind: 'length-prefixed', size: 1, endian: 'be', adjust: 0, sync: '7e', maxLength: 16 }, chunks);
      expect(r.frames).toEqual([hex('hi'), hex('there')]);
      expect(r.discards[0]).toBe('BAD_LENGTH:2');
    }
    const le = frame({ kind: 'length-prefixed', size: 2, endian: 'le', adjust: -2 }, [Buffer.from([0x05, 0x00, 1, 2, 3])]);
    expect(le.frames).toEqual(['010203']);
  });
  it('round-trips SLIP, escapes included, and drops a frame with a bad escape', () => {
    const payloads = [Buffer.from([0xc0, 0xdb, 0x01, 0xdc, 0xdd]), Buffer.from('plain'), Buffer.from([0xdb])];
    const stream = Buffer.concat([...payloads.map(slipEncode), Buffer.from([0x41, 0xdb, 0x00, 0xc0]), slipEncode(Buffer.from('after'))]);
    for (const chunks of splits(stream)) {
      const r = frame({ kind: 'slip' }, chunks);
      expect(r.frames).toEqual([...payloads.map((p) => p.toString('hex')), hex('after')]);
      expect(r.discards).toEqual(['BAD_SLIP:1']);
    }
  });
  it('round-trips COBS, including zero runs and 254-byte groups', () => {
    const cases = [Buffer.from([]), Buffer.from([0]), Buffer.from([0, 0]), Buffer.from([0x11, 0x22, 0x00, 0x33]), Buffer.alloc(254, 7), Buffer.alloc(255, 9), Buffer.from([...Buffer.alloc(300, 1), 0, 2])];
    for (const c of cases) {
      const enc = cobsEncode(c);
      expect(enc.subarray(0, -1).includes(0)).toBe(false);
      expect(cobsDecode(enc.subarray(0, -1))).toEqual(c);
    }
    // the known vector from the COBS paper's examples
    expect(cobsEncode(Buffer.from([0x11, 0x22, 0x00, 0x33])).toString('hex')).toBe('0311220233' + '00');
    const stream = Buffer.concat([cobsEncode(Buffer.from([1, 0, 2])), Buffer.from([0x05, 0x01, 0x00]), cobsEncode(Buffer.from('ok'))]);
    for (const chunks of splits(stream)) expect(frame({ kind: 'cobs' }, chunks)).toEqual({ frames: ['010002', hex('ok')], discards: ['BAD_COBS:2'] });
  });
});

describe('checksums', () => {
  it('matches the CRC catalogue check values for "123456789"', () => {
    expect(crc8(ASCII)).toBe(0xf4);
    expect(crc16(ASCII, 'modbus')).toBe(0x4b37);
    expect(crc16(ASCII, 'ccitt-false')).toBe(0x29b1);
    expect(crc16(ASCII, 'xmodem')).toBe(0x31c3);
    // Sensirion SHT3x: CRC-8 0x31/0xFF over 0xBEEF is 0x92 (datasheet example)
    expect(crc8(Buffer.from([0xbe, 0xef]), 0x31, 0xff)).toBe(0x92);
  });
  it('accepts a Modbus RTU response and strips its CRC; rejects one with a flipped bit', () => {
    // slave 1, read holding registers, 2 registers: 0x00E1 (22.5 C x10), 0x01A4 (42.0 % x10)
    const body = Buffer.from('010304' + '00e1' + '01a4', 'hex');
    const wire = Buffer.concat([body, crc16Bytes(crc16(body, 'modbus'), 'modbus')]);
    const check = createFrameCheck({ kind: 'crc16', variant: 'modbus' });
    expect(check(wire)).toEqual({ ok: true, payload: body });
    const flipped = Buffer.from(wire);
    flipped[4] = flipped[4]! ^ 0x10;
    expect(check(flipped)).toMatchObject({ ok: false, code: 'CHECKSUM_MISMATCH' });
    expect(check(Buffer.from([1, 2]))).toMatchObject({ ok: false, code: 'FRAME_TOO_SHORT' });
  });
  it('checks a trailing CRC-8 and NMEA sentences', () => {
    const body = Buffer.from([0x12, 0x34]);
    const check = createFrameCheck({ kind: 'crc8', polynomial: 0x07, init: 0 });
    expect(check(Buffer.concat([body, Buffer.from([crc8(body)])]))).toEqual({ ok: true, payload: body });
    expect(check(Buffer.concat([body, Buffer.from([crc8(body) ^ 1])]))).toMatchObject({ ok: false });
    const nmea = createFrameCheck({ kind: 'nmea' });
    expect(nmea(Buffer.from('$GPGSV,1,1,00,0*65')).ok).toBe(true);
    expect(nmea(Buffer.from('$GPGSV,1,1,00,0*66'))).toMatchObject({ ok: false, code: 'CHECKSUM_MISMATCH' });
  });
});

describe('binary layout decoder', () => {
  const ctx = { params: { device: 'node-7' } };
  it('reads a record as `int16le temperature / 100` and friends', () => {
    const layout = ['uint8 -', 'int16le temperature / 100', 'uint16be humidity / 10', 'skip 2', 'bool door', 'float32le flow * 60 + 1.5', 'int8 rssi'];
    const b = Buffer.alloc(15);
    b.writeUInt8(0x42, 0);
    b.writeInt16LE(-1234, 1);
    b.writeUInt16BE(421, 3);
    b.writeUInt8(1, 7);
    b.writeFloatLE(0.25, 8);
    b.writeInt8(-67, 12);
    const d = new BinaryLayoutDecoder(layout, false);
    const r = d.decode(b, ctx);
    expect(r.ok && r.readings.map((x) => [x.metric, x.value])).toEqual([
      ['temperature', -12.34],
      ['humidity', 42.1],
      ['door', true],
      ['flow', 16.5],
      ['rssi', -67],
    ]);
    expect(compileLayout(layout).length).toBe(13);
    expect(new BinaryLayoutDecoder(layout).decode(b, ctx)).toMatchObject({ ok: false, code: 'WRONG_LENGTH', message: 'expected 13 bytes, got 15' });
    expect(d.decode(b.subarray(0, 5), ctx)).toMatchObject({ ok: false, code: 'WRONG_LENGTH' });
  });
  it('refuses layouts it cannot read, in the schema and at compile time', () => {
    const re = new RegExp(BINARY_FIELD_PATTERN);
    expect(['int16le temperature / 100', 'skip 3', 'uint8 -', 'float64be x * 2 - 0.5'].every((s) => re.test(s))).toBe(true);
    expect(['int16 temperature', 'int16le', 'skip 0', 'uint8 a / b', 'int24le x', 'int8 t / 0', 'int8 t / 0.0'].some((s) => re.test(s))).toBe(false);
    expect(re.test('int8 t / 0.5')).toBe(true);
    expect(() => compileLayout(['int16le t / 0'])).toThrow(/division by zero/);
  });
});

describe('csv with a header line', () => {
  it('names columns from the header and tells headers from data', () => {
    const d = new CsvHeaderDecoder();
    const r = d.decode(Buffer.from('temp,hum,state\r\n21.5,40,ON'), { params: { device: 'uno' } });
    expect(r.ok && r.readings.map((x) => [x.metric, x.value])).toEqual([
      ['temp', 21.5],
      ['hum', 40],
      ['state', true],
    ]);
    expect(d.decode(Buffer.from('21.5,40'), { params: { device: 'uno' } })).toMatchObject({ ok: false, code: 'NO_HEADER' });
    expect(d.decode(Buffer.from('temp,hum\n21.5'), { params: { device: 'uno' } })).toMatchObject({ ok: false, code: 'COLUMN_COUNT' });
    expect([looksLikeHeader('temp,hum'), looksLikeHeader('21.5,40'), looksLikeHeader('temp,40')]).toEqual([true, false, false]);
  });
});
