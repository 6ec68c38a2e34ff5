/**
 * Per-sink cursors, one small JSON file each under `cursors/`, replaced
 * atomically (write a temp file, fsync, rename, fsync the directory) so a
 * power cut leaves the old cursor or the new one, never half of either.
 * A lost cursor update only means re-delivering what it covered: at-least-once.
 */
import { open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../core/contracts.js';
import { Ranges } from './ranges.js';

const SUFFIX = '.json';

export class SinkCursor {
  readonly sink: string;
  /** The first offset not yet delivered in order. */
  next: number;
  /** Delivered out of order above `next`. */
  readonly ahead: Ranges;
  /** Changed since the last save. */
  dirty = false;

  constructor(sink: string, next: number, ahead: Ranges = new Ranges()) {
    this.sink = sink;
    this.next = next;
    this.ahead = ahead;
  }

  toJSON(): object {
    return { v: 1, sink: this.sink, next: this.next, ahead: this.ahead.pairs() };
  }
}

export type LoadedCursor = { readonly ok: true; readonly cursor: SinkCursor } | { readonly ok: false; readonly sink: string; readonly error: string };

export function cursorFile(dir: string, sink: string): string {
  return join(dir, `${encodeURIComponent(sink)}${SUFFIX}`);
}

/** Every cursor file in `dir`, parsed; damaged ones are reported, not thrown. */
export async function loadCursors(dir: string): Promise<LoadedCursor[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: LoadedCursor[] = [];
  for (const name of names.filter((n) => n.endsWith(SUFFIX)).sort()) {
    const sink = decodeURIComponent(name.slice(0, -SUFFIX.length));
    try {
      const data = JSON.parse(await readFile(join(dir, name), 'utf8')) as { v?: unknown; next?: unknown; ahead?: unknown };
      if (data.v !== 1 || !Number.isSafeInteger(data.next) || (data.next as number) < 0) throw new Error('no valid `next` offset');
      const pairs = Array.isArray(data.ahead) ? (data.ahead as [number, number][]) : [];
      out.push({ ok: true, cursor: new SinkCursor(sink, data.next as number, Ranges.from(pairs)) });
    } catch (e) {
      out.push({ ok: false, sink, error: (e as Error).message });
    }
  }
  return out;
}

export async function saveCursor(dir: string, cursor: SinkCursor): Promise<void> {
  const file = cursorFile(dir, cursor.sink);
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(`${JSON.stringify(cursor)}\n`);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  await syncDir(dir);
}

export async function removeCursor(dir: string, sink: string): Promise<void> {
  await unlink(cursorFile(dir, sink)).catch(() => undefined);
}

/** Makes creations, renames and deletions in `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes changed cursors at most once per interval: acks are frequent, and
 * each save is three fsyncs on an SD card. One save runs at a time; a failed
 * one is retried at the next interval, never thrown into a timer.
 */
export class CursorSaver {
  readonly #dir: string;
  readonly #cursors: Map<string, SinkCursor>;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #log: Logger;
  #timer: TimerHandle | undefined;
  #saving: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(dir: string, cursors: Map<string, SinkCursor>, clock: Clock, intervalMs: number, log: Logger) {
    this.#dir = dir;
    this.#cursors = cursors;
    this.#clock = clock;
    this.#intervalMs = intervalMs;
    this.#log = log;
  }

  /** A cursor changed: save within the interval. */
  changed(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.saveNow();
    }, this.#intervalMs);
  }

  /** Saves every changed cursor now (after any save in progress). Never rejects. */
  saveNow(): Promise<void> {
    this.#saving = this.#saving.then(async () => {
      for (const c of this.#cursors.values()) {
        if (!c.dirty) continue;
        c.dirty = false;
        try {
          await saveCursor(this.#dir, c);
        } catch (e) {
          c.dirty = true;
          this.#log.warn({ err: e, sink: c.sink }, 'Could not save a sink cursor; will try again (a crash now means re-sending more).');
          this.changed();
        }
      }
    });
    return this.#saving;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
