/**
 * Runs a plan on a virtual clock with no sockets: every message the devices
 * would send, in order, as fast as the CPU allows. The same seed and start
 * give the same bytes, which is what the determinism tests and `sim record
 * --scenario` rely on. Link faults have nothing to act on here.
 */
import { VirtualClock } from '../../gateway/core/clock.js';
import type { Outgoing } from '../fleet/device.js';
import type { SimPlan } from '../scenario/plan.js';
import { startFleet } from './fleet.js';
import type { StatsSnapshot } from './stats.js';

export interface GenerateOptions {
  /** Epoch ms of t = 0; default the scenario's `start`, else 2024-01-01T00:00:00Z (a fixed default keeps output stable). */
  readonly startEpoch?: number;
  /** Default: the plan's duration. */
  readonly untilMs?: number;
}

export const DEFAULT_GENERATE_EPOCH = Date.UTC(2024, 0, 1);

export async function generate(plan: SimPlan, onMessage: (out: Outgoing) => void, options: GenerateOptions = {}): Promise<StatsSnapshot> {
  const until = options.untilMs ?? plan.durationMs;
  if (until === undefined) throw new RangeError('generate needs a duration: the scenario has none and no untilMs was given');
  const clock = new VirtualClock(0);
  const fleet = await startFleet(plan, { clock, capture: onMessage, startEpoch: options.startEpoch ?? plan.startEpoch ?? DEFAULT_GENERATE_EPOCH, drainMs: 0 });
  clock.advanceTo(until);
  return fleet.stop();
}
