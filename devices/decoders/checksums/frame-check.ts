/**
 * The optional checksum of a serial port: verifies each frame and strips a
 * binary CRC before the frame reaches its decoder. Corrupted frames are
 * rejected here, counted by the source, never decoded into wrong numbers.
 */
import type { Checksum } from '../../serial/schema.js';
import { crc8, crc16 } from './crc.js';
import { nmeaChecksumProblem } from './nmea-checksum.js';

export type FrameCheckResult = { readonly ok: true; readonly payload: Buffer } | { readonly ok: false; readonly code: string; readonly message: string };

export type FrameCheck = (frame: Buffer) => FrameCheckResult;

export function createFrameCheck(checksum: Checksum | undefined): FrameCheck {
  if (!checksum) return (frame) => ({ ok: true, payload: frame });
  switch (checksum.kind) {
    case 'nmea':
      return (frame) => {
        const problem = nmeaChecksumProblem(frame.toString('latin1').trim(), true);
        return problem ? { ok: false, ...problem } : { ok: true, payload: frame };
      };
    case 'crc8': {
      const { polynomial = 0x07, init = 0 } = checksum;
      return (frame) => {
        if (frame.length < 2) return { ok: false, code: 'FRAME_TOO_SHORT', message: 'a frame with a CRC-8 needs at least 2 bytes' };
        const body = frame.subarray(0, frame.length - 1);
        const want = crc8(body, polynomial, init);
        const got = frame[frame.length - 1]!;
        return want === got ? { ok: true, payload: body } : { ok: false, code: 'CHECKSUM_MISMATCH', message: `CRC-8 is ${hex(got, 2)}, the frame sums to ${hex(want, 2)}` };
      };
    }
    case 'crc16': {
      const variant = checksum.variant ?? 'modbus';
      return (frame) => {
        if (frame.length < 3) return { ok: false, code: 'FRAME_TOO_SHORT', message: 'a frame with a CRC-16 needs at least 3 bytes' };
        const body = frame.subarray(0, frame.length - 2);
        const want = crc16(body, variant);
        const got = variant === 'modbus' ? frame.readUInt16LE(frame.length - 2) : frame.readUInt16BE(frame.length - 2);
        return want === got ? { ok: true, payload: body } : { ok: false, code: 'CHECKSUM_MISMATCH', message: `CRC-16/${variant} is ${hex(got, 4)}, the frame sums to ${hex(want, 4)}` };
      };
    }
  }
}

function hex(v: number, digits: number): string {
  return `0x${v.toString(16).toUpperCase().padStart(digits, '0')}`;
}
