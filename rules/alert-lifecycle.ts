/**
 * Which raise/clear requests from an operator become alert records:
 *  - dedupe: a raise while the alert is already raised emits nothing;
 *  - cooldown: a raise sooner than `cooldown` after the previous emitted raise
 *    is held back, and so is the clear that ends it;
 *  - flap suppression: with `flap: {transitions: N, within: T}`, once N
 *    requested transitions fall within T the key is flapping and nothing is
 *    emitted; the first request after the storm emits whatever state differs
 *    from what subscribers last saw.
 * Pure functions over plain state, so snapshots carry it.
 */

export interface AlertState {
  /** What the operator last asked for (1 = raised). */
  desired: 0 | 1;
  /** What subscribers last saw. */
  emitted: 0 | 1;
  /** Event time of the last emitted raise. */
  lastRaise: number | null;
  /** Event times of recent requested transitions, for flap detection. */
  transitions: number[];
}

export interface LifecyclePolicy {
  readonly cooldownMs: number | undefined;
  readonly flap: { readonly transitions: number; readonly withinMs: number } | undefined;
}

export type Decision = 'emit' | 'dedupe' | 'cooldown' | 'flapping' | 'nothing-raised';

export function newAlertState(): AlertState {
  return { desired: 0, emitted: 0, lastRaise: null, transitions: [] };
}

export function decideRaise(a: AlertState, ts: number, policy: LifecyclePolicy): Decision {
  if (a.desired === 1) return 'dedupe';
  a.desired = 1;
  if (isFlapping(a, ts, policy)) return 'flapping';
  if (a.emitted === 1) return 'dedupe';
  if (policy.cooldownMs !== undefined && a.lastRaise !== null && ts - a.lastRaise < policy.cooldownMs) return 'cooldown';
  a.emitted = 1;
  a.lastRaise = ts;
  return 'emit';
}

export function decideClear(a: AlertState, ts: number, policy: LifecyclePolicy): Decision {
  if (a.desired === 0) return 'nothing-raised';
  a.desired = 0;
  if (isFlapping(a, ts, policy)) return 'flapping';
  if (a.emitted === 0) return 'nothing-raised';
  a.emitted = 0;
  return 'emit';
}

/** Records a transition and says whether the key is flapping now. */
function isFlapping(a: AlertState, ts: number, policy: LifecyclePolicy): boolean {
  const flap = policy.flap;
  if (!flap) return false;
  const t = a.transitions;
  t.push(ts);
  while (t.length > 0 && t[0]! <= ts - flap.withinMs) t.shift();
  if (t.length > flap.transitions) t.shift();
  return t.length >= flap.transitions;
}
