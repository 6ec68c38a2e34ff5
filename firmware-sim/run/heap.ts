/** A binary min-heap of due times: the next device to send is always on top, whatever the fleet size. */
export interface Due<T> {
  due: number;
  readonly item: T;
}

export class DueHeap<T> {
  readonly #a: Due<T>[] = [];

  get size(): number {
    return this.#a.length;
  }

  peek(): Due<T> | undefined {
    return this.#a[0];
  }

  push(entry: Due<T>): void {
    const a = this.#a;
    a.push(entry);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]!.due <= a[i]!.due) break;
      [a[parent], a[i]] = [a[i]!, a[parent]!];
      i = parent;
    }
  }

  pop(): Due<T> | undefined {
    const a = this.#a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.due < a[m]!.due) m = l;
        if (r < a.length && a[r]!.due < a[m]!.due) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }

  clear(): void {
    this.#a.length = 0;
  }
}
