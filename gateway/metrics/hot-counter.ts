/**
 * Counters bumped for every message. prom-client builds a label-hash string on
 * every `inc()`, even on a bound child: at 50k msg/s that is a measurable share
 * of the ingest path. Here each series is a plain number, bumped in place, and
 * copied into the Prometheus counter only when /metrics is scraped.
 */
import { Counter, type Registry } from 'prom-client';

/** One series: bump `n`, never decrease it. */
export interface CounterCell {
  n: number;
}

export class HotCounter {
  readonly #cells = new Map<string, CounterCell>();

  /** A counter labelled by `labelName`, or unlabelled when it is undefined. */
  constructor(registry: Registry, name: string, help: string, labelName?: string) {
    const cells = this.#cells;
    new Counter({
      name,
      help,
      labelNames: labelName ? [labelName] : [],
      registers: [registry],
      collect() {
        this.reset();
        for (const [value, cell] of cells) {
          if (labelName) this.inc({ [labelName]: value }, cell.n);
          else this.inc(cell.n);
        }
      },
    });
  }

  /** The series for one label value (created at zero on first use); keep it and bump it. */
  cell(labelValue = ''): CounterCell {
    let cell = this.#cells.get(labelValue);
    if (!cell) {
      cell = { n: 0 };
      this.#cells.set(labelValue, cell);
    }
    return cell;
  }
}
