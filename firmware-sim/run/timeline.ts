/**
 * Runs a plan's timeline on the injected clock: at each entry's time the fault
 * or signal change starts on its devices, and after `for` it ends. Link faults
 * act on links (a shared connection drops for all its devices); the rest are
 * handed to the devices.
 */
import type { Clock, TimerHandle } from '../../gateway/core/contracts.js';
import type { Outgoing, SimDevice } from '../fleet/device.js';
import { fork } from '../random.js';
import type { PlannedEvent, SimPlan } from '../scenario/plan.js';
import { parseDuration } from '../../gateway/core/units.js';
import type { Link } from '../transport/link.js';
import type { SimStats } from './stats.js';

export interface TimelineContext {
  readonly plan: SimPlan;
  readonly clock: Clock;
  /** Clock time of t = 0 (known once the links are up). */
  readonly startAt: () => number;
  readonly devices: ReadonlyMap<string, SimDevice>;
  readonly linkOf: ReadonlyMap<string, Link>;
  readonly stats: SimStats;
  /** Sends one sample of a device at t, outside its cadence (bursts). */
  readonly emitNow: (device: SimDevice, t: number, fault?: string) => void;
  readonly sendHeld: (device: SimDevice, out: Outgoing[]) => void;
}

export class Timeline {
  readonly #c: TimelineContext;
  readonly #timers = new Set<TimerHandle>();

  constructor(context: TimelineContext) {
    this.#c = context;
  }

  start(): void {
    for (const e of this.#c.plan.timeline) this.#at(e.atMs, () => this.#begin(e));
  }

  stop(): void {
    for (const t of this.#timers) this.#c.clock.clearTimeout(t);
    this.#timers.clear();
  }

  #at(t: number, fn: () => void): void {
    const { clock } = this.#c;
    const handle = clock.setTimeout(() => (this.#timers.delete(handle), fn()), Math.max(0, this.#c.startAt() + t - clock.now()));
    this.#timers.add(handle);
  }

  #begin(e: PlannedEvent): void {
    const { stats, devices } = this.#c;
    const kind = e.event.kind;
    if (kind !== 'stuck' && kind !== 'ramp' && kind !== 'set') stats.fault(kind).events++;
    const targets = e.devices.map((id) => devices.get(id)!);
    const end = e.forMs === undefined ? undefined : e.atMs + e.forMs;
    switch (e.event.kind) {
      case 'link-drop': {
        const links = this.#links(targets);
        for (const l of links) l.down();
        if (end !== undefined) this.#at(end, () => links.forEach((l) => l.up()));
        return;
      }
      case 'flap':
        return this.#flap(this.#links(targets), e.atMs, end ?? this.#c.plan.durationMs!, parseDuration(e.event.up), parseDuration(e.event.down));
      case 'burst':
        if (e.event.count !== undefined) {
          for (const d of targets) for (let k = 0; k < e.event.count; k++) this.#c.emitNow(d, e.atMs + k, 'burst');
          return;
        }
        break;
    }
    for (const d of targets) d.activate({ index: e.index, event: e.event, atMs: e.atMs, random: fork(this.#c.plan.seed, d.id, 'fault', e.index) });
    if (end !== undefined) {
      this.#at(end, () => {
        for (const d of targets) {
          const held = d.deactivate(e.index);
          if (held.length > 0) this.#c.sendHeld(d, held);
        }
      });
    }
  }

  /** Down for `down`, up for `up`, again and again until `end`; always up at the end. */
  #flap(links: Link[], from: number, end: number, up: number, down: number): void {
    for (let t = from; t < end; t += up + down) {
      this.#at(t, () => links.forEach((l) => l.down()));
      this.#at(Math.min(end, t + down), () => links.forEach((l) => l.up()));
    }
  }

  #links(devices: readonly SimDevice[]): Link[] {
    return [...new Set(devices.map((d) => this.#c.linkOf.get(d.id)).filter((l): l is Link => l !== undefined))];
  }
}
