/**
 * The raise/clear state machine with debounce on both edges, shared by
 * threshold, rate and sliding-window rules:
 *
 *   idle ──when──► pending ──held `for`──► firing ──clear──► clearing ──held `clearFor`──► idle
 *          ◄─!when─┘                        ◄──!clear──┘
 *
 * Without `clear`, the clear condition is `!when`; with it, values between the
 * two (the hysteresis band) change nothing. Times are event times unless the
 * rule uses processing time; a deadline is met by a reading at or after it or
 * by a wake-up from the engine's timer.
 */

import type { OperatorOutput } from '../types.js';

export const IDLE = 0;
export const PENDING = 1;
export const FIRING = 2;
export const CLEARING = 3;
export type HoldPhase = typeof IDLE | typeof PENDING | typeof FIRING | typeof CLEARING;

export interface HoldState {
  phase: HoldPhase;
  /** When the current pending/clearing phase began. */
  since: number;
}

export interface HoldSpec {
  readonly forMs: number;
  readonly clearForMs: number;
}

export type HoldTransition = { readonly kind: 'raise' | 'clear'; readonly at: number } | undefined;

export function newHold(): HoldState {
  return { phase: IDLE, since: 0 };
}

/** Whether the next reading should be judged by the clear condition rather than `when`. */
export function judgesClear(s: HoldState): boolean {
  return s.phase >= FIRING;
}

/**
 * Feeds one judged reading: `holds` is the result of `when` while idle or
 * pending, and of the clear condition while firing or clearing.
 */
export function holdUpdate(s: HoldState, spec: HoldSpec, ts: number, holds: boolean): HoldTransition {
  switch (s.phase) {
    case IDLE:
      if (!holds) return undefined;
      if (spec.forMs === 0) {
        s.phase = FIRING;
        return { kind: 'raise', at: ts };
      }
      s.phase = PENDING;
      s.since = ts;
      return undefined;
    case PENDING:
      if (!holds) {
        s.phase = IDLE; // `for` interrupted: the debounce starts over
        return undefined;
      }
      if (ts - s.since >= spec.forMs) {
        s.phase = FIRING;
        return { kind: 'raise', at: s.since + spec.forMs };
      }
      return undefined;
    case FIRING:
      if (!holds) return undefined;
      if (spec.clearForMs === 0) {
        s.phase = IDLE;
        return { kind: 'clear', at: ts };
      }
      s.phase = CLEARING;
      s.since = ts;
      return undefined;
    case CLEARING:
      if (!holds) {
        s.phase = FIRING;
        return undefined;
      }
      if (ts - s.since >= spec.clearForMs) {
        s.phase = IDLE;
        return { kind: 'clear', at: s.since + spec.clearForMs };
      }
      return undefined;
  }
}

export function holdWake(s: HoldState, spec: HoldSpec, now: number): HoldTransition {
  if (s.phase === PENDING && now >= s.since + spec.forMs) {
    s.phase = FIRING;
    return { kind: 'raise', at: s.since + spec.forMs };
  }
  if (s.phase === CLEARING && now >= s.since + spec.clearForMs) {
    s.phase = IDLE;
    return { kind: 'clear', at: s.since + spec.clearForMs };
  }
  return undefined;
}

export function holdNextWake(s: HoldState, spec: HoldSpec, out: Pick<OperatorOutput, 'wakeAt'>): void {
  if (s.phase === PENDING) out.wakeAt(s.since + spec.forMs);
  else if (s.phase === CLEARING) out.wakeAt(s.since + spec.clearForMs);
}
