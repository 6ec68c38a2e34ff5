/**
 * The append-only segment log under the buffer: frames in numbered files, the
 * last one open for appends. It knows nothing of sinks; the buffer decides what
 * to append, keep and drop, and calls in here one operation at a time.
 */
import { open, readFile, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { HEADER_BYTES, checkFrame, claimedLength, payloadOf, resync, writeFrame, type FrameInfo, type KindCode } from './frame.js';
import { Segment, SEGMENT_SUFFIX, parseSegmentName, scanSegment } from './segment.js';
import { syncDir } from './cursors.js';

/**
 * One record ready to be framed. The buffer hands over JSON text and its UTF-8
 * length, written straight into the frame image: no Buffer and no copy per record.
 */
export interface Encoded {
  readonly kind: KindCode;
  readonly payload: Buffer | string;
  /** The payload's length in bytes (UTF-8 for text). */
  readonly length: number;
}

export interface RecoveryReport {
  segments: number;
  /** Segments whose end held a partial frame, cut off (never acknowledged under `always`). */
  tornTails: number;
  truncatedBytes: number;
  /** Damaged stretches skipped with good frames after them, and the records they held. */
  corruptRegions: number;
  skippedBytes: number;
  skippedRecords: number;
}

const READ_CHUNK = 256 * 1024;

export class SegmentLog {
  readonly dir: string;
  readonly #readOnly: boolean;
  readonly #log: Logger;
  #segments: Segment[] = [];
  #active: FileHandle | undefined;
  #nextOffset = 0;
  /** Set when a write or fsync failed: the next append starts a fresh segment. */
  #mustRoll = false;
  #dirty = false;
  bytesWritten = 0;
  fsyncs = 0;
  /** Damage met by reads after open (bit rot): counted, skipped. */
  readDamage = 0;
  /** Rises with every compaction, so a read that raced one knows to read again. */
  compactions = 0;

  private constructor(dir: string, readOnly: boolean, log: Logger) {
    this.dir = dir;
    this.#readOnly = readOnly;
    this.#log = log;
  }

  /**
   * Scans every segment, cutting torn tails and skipping damaged records, and
   * opens the last one for appends. Offsets continue above `floor` (the highest
   * sink cursor), so records appended now are never behind a cursor.
   */
  static async open(dir: string, options: { readOnly: boolean; floor: number; log: Logger }): Promise<{ log: SegmentLog; recovery: RecoveryReport }> {
    const self = new SegmentLog(dir, options.readOnly, options.log);
    if (!options.readOnly) mkdirSync(dir, { recursive: true });
    const recovery: RecoveryReport = { segments: 0, tornTails: 0, truncatedBytes: 0, corruptRegions: 0, skippedBytes: 0, skippedRecords: 0 };
    let names: string[] = [];
    try {
      names = await readdir(dir);
    } catch (e) {
      if (!options.readOnly) throw e;
    }
    if (!options.readOnly) {
      // A compaction that crashed before its rename left the original intact.
      for (const n of names.filter((x) => x.endsWith('.compact'))) await unlink(join(dir, n)).catch(() => undefined);
    }
    const bases = names.map(parseSegmentName).filter((b): b is number => b !== undefined).sort((a, b) => a - b);
    for (const [i, base] of bases.entries()) {
      const seg = new Segment(dir, base);
      let image: Buffer;
      try {
        image = await readFile(seg.path);
      } catch (e) {
        // A running gateway reclaimed it while a read-only reader was listing.
        if (options.readOnly) continue;
        throw e;
      }
      const report = scanSegment(seg, image);
      const prev = self.#segments[self.#segments.length - 1];
      if (prev && seg.count > 0 && seg.first <= prev.last) {
        // The rest of a merge cut short by a crash: what it kept is in the merged file already.
        options.log.info({ file: seg.path }, 'Removed a buffer segment left over from an interrupted compaction.');
        if (!options.readOnly) await unlink(seg.path);
        continue;
      }
      recovery.segments++;
      self.#report(seg, report, bases[i + 1], recovery);
      const isLast = i === bases.length - 1;
      if (report.tailBytes > 0 && !options.readOnly) {
        const fh = await open(seg.path, 'r+');
        await fh.truncate(seg.size);
        await fh.datasync();
        await fh.close();
      }
      if (seg.count === 0 && !isLast && !options.readOnly) {
        await unlink(seg.path);
        continue;
      }
      self.#segments.push(seg);
    }
    const last = self.#segments[self.#segments.length - 1];
    self.#nextOffset = Math.max(options.floor, last ? Math.max(last.base, last.last + 1) : 0);
    if (!options.readOnly) {
      if (last) self.#active = await open(last.path, 'r+');
      else await self.#create();
    }
    return { log: self, recovery };
  }

  /** Logs and counts what a scan found. `nextBase` is the next segment's first offset: where this one must have ended. */
  #report(seg: Segment, report: ReturnType<typeof scanSegment>, nextBase: number | undefined, recovery: RecoveryReport): void {
    for (const s of report.skipped) this.#corrupt(recovery, seg, s.at, s.bytes, s.missing);
    if (nextBase === undefined) {
      // To a read-only reader, a partial frame at the very end is a write in progress, not damage.
      if (report.tailBytes > 0 && !this.#readOnly) {
        recovery.tornTails++;
        recovery.truncatedBytes += report.tailBytes;
        this.#log.warn({ file: seg.path, bytes: report.tailBytes }, 'Cut a torn tail (a write interrupted by a crash or power cut) off a buffer segment.');
      }
      return;
    }
    // A closed segment was synced whole before the next began: a bad end, or no frames at all, is damage.
    if (report.tailBytes > 0 || seg.count === 0) {
      const missing = Math.max(0, nextBase - (seg.count > 0 ? seg.last + 1 : seg.base));
      this.#corrupt(recovery, seg, seg.size, report.tailBytes, missing);
      recovery.truncatedBytes += report.tailBytes;
    }
  }

  #corrupt(recovery: RecoveryReport, seg: Segment, at: number, bytes: number, records: number): void {
    recovery.corruptRegions++;
    recovery.skippedBytes += bytes;
    recovery.skippedRecords += records;
    this.#log.warn({ code: 'BUFFER_CORRUPT', file: seg.path, at, bytes, records }, 'Skipped a damaged stretch of the buffer; the records around it are kept.');
  }

  get segments(): readonly Segment[] {
    return this.#segments;
  }

  get nextOffset(): number {
    return this.#nextOffset;
  }

  get active(): Segment | undefined {
    return this.#readOnly ? undefined : this.#segments[this.#segments.length - 1];
  }

  /** The lowest offset >= `from` that holds a record, if any. */
  firstPresent(from: number): number | undefined {
    for (const seg of this.#segments) {
      const p = seg.firstAtOrAfter(from);
      if (p !== undefined) return p;
    }
    return undefined;
  }

  /** Records present with offsets in [from, to). */
  countPresent(from: number, to: number): number {
    let n = 0;
    for (const seg of this.#segments) n += seg.countFrom(from) - seg.countFrom(to);
    return n;
  }

  get bytes(): number {
    let n = 0;
    for (const s of this.#segments) n += s.size;
    return n;
  }

  /**
   * Frames and writes `items` at the end of the active segment in one write,
   * then fdatasync when `sync`. Offsets are never reused, even when the write
   * fails, so a frame that did reach the disk can never clash with a later one.
   */
  async append(items: readonly Encoded[], appendedAt: number, sync: boolean, segmentBytes: number): Promise<void> {
    let bytes = 0;
    for (const it of items) bytes += HEADER_BYTES + it.length;
    let seg = this.active!;
    if (this.#mustRoll || (seg.count > 0 && seg.size + bytes > segmentBytes)) seg = await this.roll();
    const image = Buffer.allocUnsafe(bytes);
    const first = this.#nextOffset;
    this.#nextOffset += items.length;
    let at = 0;
    for (const [i, it] of items.entries()) at = writeFrame(image, at, first + i, appendedAt, it.kind, it.payload, it.length);
    const fh = this.#active!;
    const start = seg.size;
    try {
      for (let done = 0; done < bytes; ) done += (await fh.write(image, done, bytes - done, start + done)).bytesWritten;
    } catch (e) {
      await fh.truncate(start).catch(() => (this.#mustRoll = true));
      throw e;
    }
    this.bytesWritten += bytes;
    // Once written, the frames are in the file whatever fsync says: index them so the index matches the disk.
    at = 0;
    for (const [i, it] of items.entries()) {
      const size = HEADER_BYTES + it.length;
      seg.note(first + i, appendedAt, it.kind, start + at, size);
      at += size;
    }
    this.#dirty = true;
    if (sync) await this.sync();
  }

  /** fdatasync of the active segment, if anything was written since the last one. */
  async sync(): Promise<void> {
    if (!this.#dirty || !this.#active) return;
    this.#dirty = false;
    try {
      await this.#active.datasync();
      this.fsyncs++;
    } catch (e) {
      // After a failed fsync the kernel may have dropped the dirty pages: do not trust this file for more appends.
      this.#mustRoll = true;
      throw e;
    }
  }

  /** Closes the active segment (synced) and starts a new one named by the next offset. */
  async roll(): Promise<Segment> {
    if (this.#active) {
      await this.sync().catch(() => undefined);
      await this.#active.close().catch(() => undefined);
      this.#active = undefined;
    }
    return this.#create();
  }

  async #create(): Promise<Segment> {
    const seg = new Segment(this.dir, this.#nextOffset);
    this.#active = await open(seg.path, 'w+');
    await syncDir(this.dir);
    this.#segments.push(seg);
    this.#mustRoll = false;
    return seg;
  }

  /** Deletes a closed segment (never the active one). */
  async remove(seg: Segment): Promise<void> {
    if (seg === this.active) throw new Error('the active segment cannot be removed');
    this.#segments = this.#segments.filter((s) => s !== seg);
    await seg.retire();
    await unlink(seg.path).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }

  /**
   * Rewrites closed, consecutive segments into one file keeping only the
   * frames `keep` accepts, offsets unchanged: how drop-oldest frees readings and
   * keeps alerts, folding small alert-only segments together as it goes. The
   * result replaces the first file by rename, then the others are deleted; a
   * crash between leaves a later file starting below the merged one's end,
   * which open() recognises and deletes.
   */
  async compact(segs: readonly Segment[], keep: (frame: FrameInfo) => boolean): Promise<Segment> {
    const first = segs[0]!;
    const kept: Buffer[] = [];
    const fresh = new Segment(this.dir, first.base);
    let pos = 0;
    for (const seg of segs) {
      const image = await readFile(seg.path);
      scanSegment(new Segment(this.dir, seg.base), image, (f) => {
        if (!keep(f)) return;
        kept.push(image.subarray(f.at, f.at + f.size));
        fresh.note(f.offset, f.appendedAt, f.kind, pos, f.size);
        pos += f.size;
      });
    }
    const tmp = `${first.path}.compact`;
    const fh = await open(tmp, 'w');
    try {
      const out = Buffer.concat(kept);
      await fh.write(out, 0, out.length, 0);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, first.path);
    await syncDir(this.dir);
    for (const seg of segs.slice(1)) await unlink(seg.path).catch(() => undefined);
    this.bytesWritten += pos;
    const gone = new Set(segs);
    this.#segments = this.#segments.flatMap((s) => (s === first ? [fresh] : gone.has(s) ? [] : [s]));
    this.compactions++;
    for (const seg of segs) await seg.retire();
    return fresh;
  }

  /**
   * Calls `visit` with each frame of `seg` whose offset is >= `from`, in order.
   * `visit` returns true to go on, false to stop, or an offset to skip ahead to.
   */
  async scanFrom(seg: Segment, from: number, visit: (frame: FrameInfo, payload: Buffer) => boolean | number): Promise<boolean> {
    const fh = await seg.reader();
    const end = seg.size;
    let pos = seg.positionFor(from);
    while (pos < end) {
      let buf = await readAt(fh, pos, Math.min(READ_CHUNK, end - pos));
      let i = 0;
      let jumped = false;
      while (i < buf.length) {
        let f = checkFrame(buf, i);
        if (f === 'short') {
          const need = buf.length - i >= 12 ? HEADER_BYTES + claimedLength(buf, i) : HEADER_BYTES;
          if (pos + i + need <= end) {
            if (i > 0) break; // the frame runs past this chunk: re-read from it
            if (need > buf.length) {
              buf = await readAt(fh, pos, need);
              if (buf.length === need) continue;
            }
          }
          f = 'bad'; // a length that cannot be right
        }
        if (f === 'bad') {
          this.readDamage++;
          this.#log.warn({ code: 'BUFFER_CORRUPT', file: seg.path, at: pos + i }, 'A buffer record failed its checksum on read; skipped.');
          const p = resync(buf, i + 1);
          i = p >= 0 ? p : Math.max(i + 1, buf.length - HEADER_BYTES);
          continue;
        }
        if (f.offset >= from) {
          const r = visit(f, payloadOf(buf, f));
          if (r === false) return false;
          if (typeof r === 'number' && r > f.offset + 1) {
            from = r;
            const p = seg.positionFor(r);
            if (p > pos + i + f.size) {
              pos = p;
              jumped = true;
              break;
            }
          }
        }
        i += f.size;
      }
      if (!jumped) pos += i;
    }
    return true;
  }

  /** The payload of the frame at `pos` (an alert read by position). */
  async readAt(seg: Segment, pos: number): Promise<{ frame: FrameInfo; payload: Buffer } | undefined> {
    const fh = await seg.reader();
    let buf = await readAt(fh, pos, Math.min(4096, seg.size - pos));
    let f = checkFrame(buf, 0);
    if (f === 'short' && buf.length >= 12) {
      buf = await readAt(fh, pos, Math.min(HEADER_BYTES + claimedLength(buf, 0), seg.size - pos));
      f = checkFrame(buf, 0);
    }
    if (typeof f !== 'object') {
      this.readDamage++;
      return undefined;
    }
    return { frame: f, payload: payloadOf(buf, f) };
  }

  async close(): Promise<void> {
    if (this.#active) {
      await this.sync().catch(() => undefined);
      await this.#active.close().catch(() => undefined);
      this.#active = undefined;
    }
    for (const s of this.#segments) await s.closeReader();
  }
}

async function readAt(fh: FileHandle, pos: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === length ? buf : buf.subarray(0, got);
}

export { SEGMENT_SUFFIX };
