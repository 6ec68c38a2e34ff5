/**
 * Decimal text of integers that are converted once and never again: record
 * sequence numbers, timestamps, the reading values in alert messages.
 *
 * Why not String(n) or `${n}`: V8 remembers every number it turns into text in
 * a heap-wide cache of up to 16K entries. A number that never repeats pushes an
 * older entry out, so each of its strings stays reachable for the next ~16K
 * conversions, outlives one or two young-generation collections and is copied,
 * then promoted, then left for a full collection. At 5k readings/s the record
 * ids alone kept ~66 KB alive through every scavenge and doubled its pause,
 * which is what set the alert p99 (BENCHMARKS.md, "Sixth session").
 * Number#toFixed builds its text without that cache.
 */

/** The same text as String(n), for every number; cache-free for safe integers (ids, epoch ms). */
export function integerText(n: number): string {
  // toFixed(0) prints a double's exact digits, String its shortest round-trip digits: the same below
  // 2^53, where every integer is exact (-0 gives "0" in both); beyond it, and for fractions, String.
  return Number.isSafeInteger(n) ? n.toFixed(0) : String(n);
}
