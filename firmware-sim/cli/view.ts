/**
 * The live view while a run goes: links up, messages per second sent and
 * acknowledged, faults, errors, and a progress bar for fixed-duration runs.
 * Redrawn in place, and only on a terminal; a pipe or a log file gets the
 * summary alone, not a stream of escape codes.
 */
import type { StatsSnapshot } from '../run/stats.js';
import { seconds } from './summary.js';

export interface ViewTarget {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

const CSI = '\x1b[';

export class LiveView {
  readonly #out: ViewTarget;
  readonly #title: string;
  readonly #durationMs: number | undefined;
  readonly #read: () => StatsSnapshot;
  #timer: NodeJS.Timeout | undefined;
  #drawn = 0;
  #last: { at: number; sent: number; acknowledged: number } | undefined;

  constructor(out: ViewTarget, title: string, durationMs: number | undefined, read: () => StatsSnapshot) {
    this.#out = out;
    this.#title = title;
    this.#durationMs = durationMs;
    this.#read = read;
  }

  start(intervalMs = 500): void {
    if (!this.#out.isTTY) return;
    this.#out.write(`${CSI}?25l`); // hide the cursor while redrawing
    this.#draw();
    this.#timer = setInterval(() => this.#draw(), intervalMs);
  }

  /** Clears the view so the summary prints where it was. */
  stop(): void {
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#out.write(`${this.#drawn > 0 ? `${CSI}${this.#drawn}F${CSI}0J` : ''}${CSI}?25h`);
    this.#drawn = 0;
  }

  #draw(): void {
    const s = this.#read();
    const lines = render(this.#title, s, this.#rates(s), this.#durationMs, this.#out.columns ?? 80);
    const up = this.#drawn > 0 ? `${CSI}${this.#drawn}F` : '';
    this.#out.write(`${up}${lines.map((l) => `${CSI}2K${l}\n`).join('')}`);
    this.#drawn = lines.length;
  }

  #rates(s: StatsSnapshot): { sent: number; acknowledged: number } {
    const now = Date.now();
    const prev = this.#last;
    this.#last = { at: now, sent: s.messages.sent, acknowledged: s.messages.acknowledged };
    if (!prev || now <= prev.at) return { sent: 0, acknowledged: 0 };
    const dt = (now - prev.at) / 1000;
    return { sent: (s.messages.sent - prev.sent) / dt, acknowledged: (s.messages.acknowledged - prev.acknowledged) / dt };
  }
}

export function render(title: string, s: StatsSnapshot, rate: { sent: number; acknowledged: number }, durationMs: number | undefined, columns: number): string[] {
  const m = s.messages;
  const faults = Object.entries(s.faults).map(([k, f]) => `${k} ${f.messages}`);
  const errors = Object.entries(s.errors).map(([k, n]) => `${k} ${n}`);
  const lines = [
    `${title}`,
    `links     ${s.links.connected}/${s.links.total} connected   reconnects ${s.links.reconnects}`,
    `messages  ${rate.sent.toFixed(1)}/s sent  ${rate.acknowledged.toFixed(1)}/s acked   total ${m.sent} sent, ${m.acknowledged} acked, ${m.failed} failed, ${m.pending} pending`,
    `faults    ${faults.length ? faults.join('  ') : 'none'}`,
    `errors    ${errors.length ? errors.join('  ') : 'none'}`,
  ];
  if (durationMs !== undefined) lines.push(progressBar(s.elapsedMs, durationMs, Math.max(10, Math.min(50, columns - 30))));
  return lines.map((l) => (l.length > columns ? `${l.slice(0, columns - 1)}…` : l));
}

export function progressBar(elapsedMs: number, totalMs: number, width: number): string {
  const f = Math.min(1, Math.max(0, elapsedMs / totalMs));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${String(Math.floor(f * 100)).padStart(3)}%  ${seconds(elapsedMs)} / ${seconds(totalMs)}`;
}
