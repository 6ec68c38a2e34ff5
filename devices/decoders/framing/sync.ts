/** Finding a sync pattern in a buffer, shared by the fixed and length-prefixed framers. */

/**
 * Index of the first full or partial (at the tail) occurrence of `sync`, so a
 * pattern split across two reads is not thrown away as garbage.
 */
export function syncIndex(buf: Buffer, sync: Buffer, from: number): number {
  const full = buf.indexOf(sync, from);
  if (full >= 0) return full;
  for (let i = Math.max(from, buf.length - sync.length + 1); i < buf.length; i++) {
    if (sync.subarray(0, buf.length - i).equals(buf.subarray(i))) return i;
  }
  return buf.length;
}
