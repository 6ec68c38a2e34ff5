/**
 * Serial wire format: the profile's checksum appended to a payload, then its
 * framing around it, mirroring devices/decoders/framing and checksums (whose
 * pure encoders and CRCs are reused, so both sides compute the same bytes).
 */
import type { Checksum, Framing } from '../../devices/serial/schema.js';
import { crc8, crc16, crc16Bytes } from '../../devices/decoders/checksums/crc.js';
import { slipEncode } from '../../devices/decoders/framing/slip.js';
import { cobsEncode } from '../../devices/decoders/framing/cobs.js';

/** Payload plus CRC (NMEA sentences carry their own `*hh`). */
export function withChecksum(payload: Buffer, checksum: Checksum | undefined): Buffer {
  if (!checksum || checksum.kind === 'nmea') return payload;
  if (checksum.kind === 'crc8') return Buffer.concat([payload, Buffer.of(crc8(payload, checksum.polynomial ?? 7, checksum.init ?? 0))]);
  const variant = checksum.variant ?? 'modbus';
  return Buffer.concat([payload, crc16Bytes(crc16(payload, variant), variant)]);
}

/**
 * The payload with a checksum that does not match: the NMEA `*hh` or the last
 * CRC byte changed. Undefined when the format has no checksum to get wrong.
 */
export function withWrongChecksum(payload: Buffer, checksum: Checksum | undefined): Buffer | undefined {
  const star = payload.lastIndexOf(0x2a);
  if (payload[0] === 0x24 && star > 0 && star + 3 <= payload.length) {
    const out = Buffer.from(payload);
    const sum = Number.parseInt(out.subarray(star + 1, star + 3).toString('latin1'), 16);
    out.write(((sum ^ 0x5a) & 0xff).toString(16).toUpperCase().padStart(2, '0'), star + 1, 'latin1');
    return out;
  }
  if (!checksum || checksum.kind === 'nmea') return undefined;
  const out = withChecksum(payload, checksum);
  out[out.length - 1]! ^= 0x5a;
  return out;
}

/** Where in a framed message the payload bytes sit, so corruption can aim at them and not at the delimiter. */
export interface Framed {
  readonly bytes: Buffer;
  readonly start: number;
  readonly end: number;
}

export function frame(body: Buffer, framing: Framing): Framed {
  switch (framing.kind) {
    case 'lf':
      return { bytes: Buffer.concat([body, Buffer.from('\n')]), start: 0, end: body.length };
    case 'crlf':
      return { bytes: Buffer.concat([body, Buffer.from('\r\n')]), start: 0, end: body.length };
    case 'slip':
      // escaping moves bytes around; aim corruption at the whole frame minus its END bytes
      return inner(slipEncode(body), 1, 1);
    case 'cobs':
      return inner(cobsEncode(body), 1, 1);
    case 'fixed': {
      const sync = framing.sync === undefined ? Buffer.alloc(0) : Buffer.from(framing.sync, 'hex');
      // layouts of fixed frames count the sync bytes (as `skip`); the sim writes them there
      const bytes = Buffer.alloc(framing.length);
      body.copy(bytes, 0, 0, Math.min(body.length, framing.length));
      sync.copy(bytes, 0);
      return { bytes, start: sync.length, end: bytes.length };
    }
    case 'length-prefixed': {
      const sync = framing.sync === undefined ? Buffer.alloc(0) : Buffer.from(framing.sync, 'hex');
      const size = framing.size ?? 1;
      const header = Buffer.alloc(size);
      const n = body.length - (framing.adjust ?? 0);
      const be = (framing.endian ?? 'be') === 'be';
      if (size === 1) header.writeUInt8(n & 0xff);
      else if (size === 2) be ? header.writeUInt16BE(n & 0xffff) : header.writeUInt16LE(n & 0xffff);
      else be ? header.writeUInt32BE(n >>> 0) : header.writeUInt32LE(n >>> 0);
      const start = sync.length + size;
      return { bytes: Buffer.concat([sync, header, body]), start, end: start + body.length };
    }
  }
}

function inner(bytes: Buffer, head: number, tail: number): Framed {
  return { bytes, start: head, end: bytes.length - tail };
}
