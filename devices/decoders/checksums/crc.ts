/**
 * The CRCs small devices append to binary frames, table-driven so a busy port
 * costs one lookup per byte. Parameters follow the CRC RevEng catalogue names.
 */

export type Crc16Variant = 'modbus' | 'ccitt-false' | 'xmodem';

const crc8Tables = new Map<number, Uint8Array>();

function crc8Table(polynomial: number): Uint8Array {
  let table = crc8Tables.get(polynomial);
  if (table) return table;
  table = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let b = 0; b < 8; b++) c = c & 0x80 ? ((c << 1) ^ polynomial) & 0xff : (c << 1) & 0xff;
    table[i] = c;
  }
  crc8Tables.set(polynomial, table);
  return table;
}

/** CRC-8, MSB first, no reflection, no final XOR (CRC-8/SMBUS with 0x07, CRC-8/NRSC-5... with others). */
export function crc8(data: Uint8Array, polynomial = 0x07, init = 0x00): number {
  const table = crc8Table(polynomial);
  let crc = init;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]!;
  return crc;
}

function table16(build: (i: number) => number): Uint16Array {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) t[i] = build(i);
  return t;
}

// CRC-16/MODBUS: reflected polynomial 0x8005 (0xA001), init 0xFFFF
const MODBUS = table16((i) => {
  let c = i;
  for (let b = 0; b < 8; b++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
  return c;
});
// CRC-16/CCITT-FALSE and XMODEM: polynomial 0x1021, MSB first
const CCITT = table16((i) => {
  let c = i << 8;
  for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  return c;
});

export function crc16(data: Uint8Array, variant: Crc16Variant): number {
  if (variant === 'modbus') {
    let crc = 0xffff;
    for (let i = 0; i < data.length; i++) crc = (crc >>> 8) ^ MODBUS[(crc ^ data[i]!) & 0xff]!;
    return crc;
  }
  let crc = variant === 'ccitt-false' ? 0xffff : 0x0000;
  for (let i = 0; i < data.length; i++) crc = ((crc << 8) & 0xffff) ^ CCITT[((crc >>> 8) ^ data[i]!) & 0xff]!;
  return crc;
}

/** Modbus RTU sends its CRC low byte first; the CCITT family high byte first. */
export function crc16Bytes(value: number, variant: Crc16Variant): Buffer {
  const b = Buffer.alloc(2);
  if (variant === 'modbus') b.writeUInt16LE(value);
  else b.writeUInt16BE(value);
  return b;
}
