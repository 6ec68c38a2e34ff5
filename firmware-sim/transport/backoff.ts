/** Reconnect waits: doubling from `initial` up to `max`, with full jitter so a fleet does not reconnect in lockstep. */
import type { Random } from '../random.js';

export function backoffMs(attempt: number, initialMs: number, maxMs: number, random: Random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  // full jitter, but never below half the initial wait: a tight loop against a dead broker helps no one
  return Math.max(initialMs / 2, Math.round(ceiling * random()));
}
