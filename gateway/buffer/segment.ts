/**
 * One segment file of the log: what is in it (offsets, kinds, times) and where,
 * kept in memory so reads seek instead of scanning, and so the budget can
 * decide what to drop without reading the disk. Files are named by the first
 * offset they were created for, zero-padded so names sort in log order.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { KIND_ALERT, checkFrame, resync, type FrameInfo } from './frame.js';

const NAME_DIGITS = 20;
export const SEGMENT_SUFFIX = '.log';
/** A sparse index entry every this many bytes bounds a seek's forward scan. */
const INDEX_EVERY_BYTES = 16 * 1024;

export function segmentName(base: number): string {
  return `${String(base).padStart(NAME_DIGITS, '0')}${SEGMENT_SUFFIX}`;
}

export function parseSegmentName(name: string): number | undefined {
  const m = /^(\d{20})\.log$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export class Segment {
  readonly base: number;
  readonly path: string;
  count = 0;
  readings = 0;
  first = -1;
  last = -1;
  /** Bytes of whole, valid frames: where the next append goes. */
  size = 0;
  firstTime = 0;
  lastTime = 0;
  /** Alert offsets and file positions, ascending: alerts are rare and are kept ahead of readings. */
  readonly alerts: number[] = [];
  readonly alertPos: number[] = [];
  alertBytes = 0;
  readonly #idxOffset: number[] = [];
  readonly #idxPos: number[] = [];
  readonly #idxTime: number[] = [];
  #nextIndexAt = 0;
  #reader: Promise<FileHandle> | undefined;
  #retired = false;

  constructor(dir: string, base: number) {
    this.base = base;
    this.path = join(dir, segmentName(base));
  }

  /** Registers a frame that starts at file position `pos`. */
  note(offset: number, appendedAt: number, kind: number, pos: number, size: number): void {
    if (this.count === 0) (this.first = offset), (this.firstTime = appendedAt);
    this.count++;
    this.last = offset;
    this.lastTime = appendedAt;
    if (kind === KIND_ALERT) this.alerts.push(offset), this.alertPos.push(pos), (this.alertBytes += size);
    else this.readings++;
    if (pos >= this.#nextIndexAt) {
      this.#idxOffset.push(offset);
      this.#idxPos.push(pos);
      this.#idxTime.push(appendedAt);
      this.#nextIndexAt = pos + INDEX_EVERY_BYTES;
    }
    this.size = pos + size;
  }

  /** A file position at or before the frame with `offset` (or the first frame after it). */
  positionFor(offset: number): number {
    const i = floorIndex(this.#idxOffset, offset);
    return i < 0 ? 0 : this.#idxPos[i]!;
  }

  /** When the record at `offset` (or the nearest indexed one before it) was appended. */
  timeAt(offset: number): number {
    const i = floorIndex(this.#idxOffset, offset);
    return i < 0 ? this.firstTime : this.#idxTime[i]!;
  }

  /** Records present with offset >= `from`; exact unless damage left gaps among readings. */
  countFrom(from: number): number {
    if (this.count === 0 || from > this.last) return 0;
    if (from <= this.first) return this.count;
    if (this.readings === 0) return this.alertsFrom(from);
    return Math.min(this.count, this.last - from + 1);
  }

  alertsFrom(from: number): number {
    return this.alerts.length - ceilIndex(this.alerts, from);
  }

  /** The lowest present offset >= `from`, if any: exact for the first record and for alert-only segments. */
  firstAtOrAfter(from: number): number | undefined {
    if (this.count === 0 || from > this.last) return undefined;
    if (from <= this.first) return this.first;
    if (this.readings === 0) return this.alerts[ceilIndex(this.alerts, from)];
    return from;
  }

  /** A read-only handle, opened once and shared by reads. */
  reader(): Promise<FileHandle> {
    // After a compaction the path holds a different file: old positions would read garbage.
    if (this.#retired) return Promise.reject(new Error(`segment ${this.path} was removed or rewritten`));
    this.#reader ??= open(this.path, 'r');
    return this.#reader;
  }

  /** No more reads through this object (the file was deleted or replaced). */
  retire(): Promise<void> {
    this.#retired = true;
    return this.closeReader();
  }

  /** Closes the read handle once reads in flight on it are done (FileHandle.close waits for them). */
  async closeReader(): Promise<void> {
    const r = this.#reader;
    this.#reader = undefined;
    if (r) await r.then((h) => h.close()).catch(() => undefined);
  }
}

export interface ScanReport {
  /** Damaged stretches with good frames after them: skipped, file left as is. */
  readonly skipped: { readonly at: number; readonly bytes: number; readonly missing: number }[];
  /** Bytes after the last good frame that hold no whole frame: a torn tail. */
  readonly tailBytes: number;
}

/**
 * Reads a whole segment image into `seg`, skipping damage: a stretch that is
 * not a valid frame is passed over to the next position where one starts
 * (found by magic, confirmed by checksum), so one bad record costs only itself.
 * Offsets must rise; a frame that goes back is damage too.
 */
export function scanSegment(seg: Segment, image: Buffer, onFrame?: (frame: FrameInfo) => void): ScanReport {
  const skipped: { at: number; bytes: number; missing: number }[] = [];
  let pos = 0;
  let lastOffset = seg.base - 1;
  while (pos < image.length) {
    const r = checkFrame(image, pos);
    if (typeof r === 'object' && r.offset > lastOffset) {
      seg.note(r.offset, r.appendedAt, r.kind, pos, r.size);
      onFrame?.(r);
      lastOffset = r.offset;
      pos += r.size;
      continue;
    }
    const next = nextGoodFrame(image, pos + 1, lastOffset);
    if (!next) return { skipped, tailBytes: image.length - pos };
    skipped.push({ at: pos, bytes: next.at - pos, missing: next.offset - lastOffset - 1 });
    pos = next.at;
  }
  return { skipped, tailBytes: 0 };
}

function nextGoodFrame(image: Buffer, from: number, after: number): FrameInfo | undefined {
  for (let p = resync(image, from); p >= 0; p = resync(image, p + 1)) {
    const f = checkFrame(image, p);
    if (typeof f === 'object' && f.offset > after) return f;
  }
  return undefined;
}

/** Index of the last element <= x in an ascending array, or -1. */
function floorIndex(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! <= x) (found = mid), (lo = mid + 1);
    else hi = mid - 1;
  }
  return found;
}

/** Index of the first element >= x in an ascending array (a.length if none). */
export function ceilIndex(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
