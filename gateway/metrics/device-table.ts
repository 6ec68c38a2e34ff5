/**
 * Last-seen time per device, capped. Used for /metrics and /api/status; the
 * cap keeps a flood of spoofed device ids from growing memory without bound.
 */
export const OVERFLOW_DEVICE = '_other';

export class DeviceTable {
  readonly #max: number;
  readonly #lastSeen = new Map<string, number>();
  #overflowed = 0;

  constructor(max: number) {
    this.#max = max;
  }

  /** Records activity and returns the label to use for the device (capped). */
  touch(device: string, at: number): string {
    if (this.#lastSeen.has(device) || this.#lastSeen.size < this.#max) {
      this.#lastSeen.set(device, at);
      return device;
    }
    this.#overflowed++;
    return OVERFLOW_DEVICE;
  }

  label(device: string): string {
    return this.#lastSeen.has(device) || this.#lastSeen.size < this.#max ? device : OVERFLOW_DEVICE;
  }

  entries(): IterableIterator<[string, number]> {
    return this.#lastSeen.entries();
  }

  get size(): number {
    return this.#lastSeen.size;
  }

  get overflowed(): number {
    return this.#overflowed;
  }
}
