/**
 * The on-disk record frame. Each record carries its own offset, time and
 * checksum, so a segment can be compacted (offsets kept, gaps allowed) and a
 * reader can find the next good frame after damage by searching for the magic.
 *
 *   0  u32  CRC-32 of bytes 4..end   12  u64  offset
 *   4  u16  magic 0x5752 ("WR")       20  f64  appendedAt, epoch ms
 *   6  u8   format version (1)        28  ...  payload: the record as UTF-8 JSON
 *   7  u8   kind (1 reading, 2 alert)
 *   8  u32  payload length
 *
 * The checksum leads so that it covers one contiguous range (one native call).
 */
import { crc32 } from './crc.js';

export const HEADER_BYTES = 28;
export const MAGIC = 0x5752;
const MAGIC_BYTES = Buffer.from([0x52, 0x57]); // MAGIC little-endian, for indexOf
const FORMAT = 1;
/** Larger lengths are damage, not records: keeps a flipped length byte from asking for gigabytes. */
export const MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;

export const KIND_READING = 1;
export const KIND_ALERT = 2;
export type KindCode = typeof KIND_READING | typeof KIND_ALERT;

export interface FrameInfo {
  readonly offset: number;
  readonly appendedAt: number;
  readonly kind: KindCode;
  /** Where the frame starts in the buffer it was found in. */
  readonly at: number;
  /** Header plus payload. */
  readonly size: number;
}

/** Writes one frame into `target` at `at`; returns the position after it. `length` is the payload's size in bytes. */
export function writeFrame(target: Buffer, at: number, offset: number, appendedAt: number, kind: KindCode, payload: Buffer | string, length: number): number {
  target.writeUInt16LE(MAGIC, at + 4);
  target[at + 6] = FORMAT;
  target[at + 7] = kind;
  target.writeUInt32LE(length, at + 8);
  // offsets stay below 2^53: two u32 halves instead of a BigInt per record
  target.writeUInt32LE(offset % 0x1_0000_0000, at + 12);
  target.writeUInt32LE(Math.floor(offset / 0x1_0000_0000), at + 16);
  target.writeDoubleLE(appendedAt, at + 20);
  if (typeof payload === 'string') target.write(payload, at + HEADER_BYTES, length, 'utf8');
  else payload.copy(target, at + HEADER_BYTES);
  const end = at + HEADER_BYTES + length;
  target.writeUInt32LE(crc32(target.subarray(at + 4, end)), at);
  return end;
}

/**
 * What is at `at`: a whole valid frame, `short` (a plausible header whose frame
 * runs past the end of `buf`: read more, or it is a torn tail), or `bad`.
 */
export function checkFrame(buf: Buffer, at: number): FrameInfo | 'short' | 'bad' {
  const avail = buf.length - at;
  if (avail >= 6 && buf.readUInt16LE(at + 4) !== MAGIC) return 'bad';
  if (avail < HEADER_BYTES) return 'short';
  if (buf[at + 6] !== FORMAT) return 'bad';
  const kind = buf[at + 7];
  if (kind !== KIND_READING && kind !== KIND_ALERT) return 'bad';
  const length = buf.readUInt32LE(at + 8);
  if (length > MAX_PAYLOAD_BYTES) return 'bad';
  if (avail < HEADER_BYTES + length) return 'short';
  if (crc32(buf.subarray(at + 4, at + HEADER_BYTES + length)) !== buf.readUInt32LE(at)) return 'bad';
  const offset = buf.readUInt32LE(at + 12) + buf.readUInt32LE(at + 16) * 0x1_0000_0000;
  return { offset, appendedAt: buf.readDoubleLE(at + 20), kind, at, size: HEADER_BYTES + length };
}

/** The payload length a frame header at `at` claims (at least 8 bytes must be there). */
export function claimedLength(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at + 8);
}

/** The payload bytes of a frame found by checkFrame in `buf`. */
export function payloadOf(buf: Buffer, frame: FrameInfo): Buffer {
  return buf.subarray(frame.at + HEADER_BYTES, frame.at + frame.size);
}

/** The next position after `from` where a whole valid frame starts, or -1. */
export function resync(buf: Buffer, from: number): number {
  for (let m = buf.indexOf(MAGIC_BYTES, from + 4); m >= 0; m = buf.indexOf(MAGIC_BYTES, m + 1)) {
    if (typeof checkFrame(buf, m - 4) === 'object') return m - 4;
  }
  return -1;
}
