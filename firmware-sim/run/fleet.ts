/**
 * Runs a plan: devices send on their cadence (a heap of due times on the
 * injected clock), the timeline injects faults, links carry the bytes, and
 * stats count every message from sent to acknowledged. `startFleet` is the
 * programmatic API tests and benchmarks use as a load generator.
 */
import { SystemClock } from '../../gateway/core/clock.js';
import type { Clock, TimerHandle } from '../../gateway/core/contracts.js';
import { SimDevice, type Outgoing } from '../fleet/device.js';
import type { SimPlan } from '../scenario/plan.js';
import type { GpioDriver } from '../transport/gpio-link.js';
import type { Link, LinkEvents, SendFailure } from '../transport/link.js';
import { DueHeap } from './heap.js';
import { Histogram } from './histogram.js';
import { wireLinks } from './links.js';
import { PollAnswerer } from './poll.js';
import { SimStats, type StatsSnapshot } from './stats.js';
import { Timeline } from './timeline.js';
import { LatencyWatch } from './watch.js';

export interface FleetOptions {
  /** Broker URL for MQTT devices; overrides the scenario's `mqtt.url`. */
  readonly mqttUrl?: string;
  /** The port of the one serial device without `serial.path`; default: a new pty pair per device. */
  readonly serialPath?: string;
  /** Chip whose lines GPIO devices drive (devices/gpio's MemoryGpioChip). */
  readonly gpio?: GpioDriver;
  readonly clock?: Clock;
  /** Epoch ms device clocks start at; default the scenario's `start`, else the clock's now. */
  readonly startEpoch?: number;
  /** Collect messages instead of sending them (no sockets, no ptys). */
  readonly capture?: (out: Outgoing) => void;
  /** Each message once its transport acknowledged it (QoS 1/2 PUBACK/PUBCOMP, a serial write, a GPIO drive). */
  readonly onAcknowledged?: (out: Outgoing) => void;
  /** Topic to measure publish-to-receive latency on (`weir/readings/+`). */
  readonly watch?: string;
  /** Reported next to the achieved rate (load mode). */
  readonly targetRate?: number;
  /** How long stop() waits for outstanding acknowledgements. Default 3 s. */
  readonly drainMs?: number;
  /** Emissions per timer callback before yielding to I/O. Default 2000. */
  readonly batch?: number;
  /**
   * Unacknowledged messages a connected link may hold before the scheduler waits for it. Default 500.
   * Without it a generator faster than its socket only queues: messages count as sent long before they
   * leave, and the achieved rate lies. A disconnected link is not waited for (its queue is the fault),
   * nor a serial port (a gateway that does not read it must not stall the MQTT devices).
   */
  readonly window?: number;
}

export interface Fleet {
  readonly plan: SimPlan;
  readonly devices: readonly SimDevice[];
  /** Serial device id -> the path the gateway should open. */
  readonly serialPaths: ReadonlyMap<string, string>;
  /** Epoch ms of t = 0 in device time. */
  readonly startEpoch: number;
  stats(): StatsSnapshot;
  /** Settles with the final stats when the duration has run and the fleet stopped (never without a duration, unless stopped). */
  readonly finished: Promise<StatsSnapshot>;
  /** Stops sending, waits for acknowledgements up to drainMs, closes links (death messages first). */
  stop(): Promise<StatsSnapshot>;
}

export async function startFleet(plan: SimPlan, options: FleetOptions = {}): Promise<Fleet> {
  const runner = new Runner(plan, options);
  await runner.start();
  return runner;
}

class Runner implements Fleet {
  readonly plan: SimPlan;
  readonly devices: SimDevice[];
  readonly serialPaths: ReadonlyMap<string, string>;
  readonly finished: Promise<StatsSnapshot>;
  startEpoch: number;
  readonly #o: FleetOptions;
  readonly #clock: Clock;
  readonly #stats = new SimStats();
  readonly #heap = new DueHeap<SimDevice>();
  readonly #links: Link[];
  readonly #linkOf: Map<string, Link>;
  readonly #timeline: Timeline;
  readonly #polls = new Map<string, PollAnswerer>();
  readonly #outstanding = new Map<Link, number>();
  #startAt = 0;
  #tickTimer: TimerHandle | undefined;
  #endTimer: TimerHandle | undefined;
  #watch: LatencyWatch | undefined;
  #stopping: Promise<StatsSnapshot> | undefined;
  #stoppedAt: number | undefined;
  /** Links up when the run ended, before stop() closed them: what the summary reports. */
  #connectedAtStop: number | undefined;
  #resolveFinished!: (s: StatsSnapshot) => void;

  constructor(plan: SimPlan, o: FleetOptions) {
    this.plan = plan;
    this.#o = o;
    this.#clock = o.clock ?? new SystemClock();
    this.startEpoch = o.startEpoch ?? plan.startEpoch ?? this.#clock.now();
    this.devices = plan.devices.map((spec) => new SimDevice(spec, plan.seed, this.startEpoch));
    const events: LinkEvents = {
      connected: (_l, again) => void (again && this.#stats.reconnects++),
      disconnected: () => void this.#stats.disconnects++,
      error: (_l, code, message) => this.#stats.error(code, message),
    };
    const wiring = wireLinks(plan, this.devices, events, {
      ...(o.mqttUrl !== undefined ? { mqttUrl: o.mqttUrl } : {}),
      ...(o.serialPath !== undefined ? { serialPath: o.serialPath } : {}),
      ...(o.gpio ? { gpio: o.gpio } : {}),
      ...(o.capture ? { capture: o.capture } : {}),
      onSerialData: (d, chunk) => this.#polls.get(d.id)?.push(chunk),
    });
    this.#links = wiring.links;
    this.#linkOf = wiring.linkOf;
    this.serialPaths = wiring.serialPaths;
    this.#timeline = new Timeline({
      plan,
      clock: this.#clock,
      startAt: () => this.#startAt,
      devices: new Map(this.devices.map((d) => [d.id, d])),
      linkOf: this.#linkOf,
      stats: this.#stats,
      emitNow: (d, t, fault) => this.#emit(d, t, fault),
      sendHeld: (d, out) => out.forEach((m) => this.#send(d, m)),
    });
    this.finished = new Promise((resolve) => (this.#resolveFinished = resolve));
  }

  async start(): Promise<void> {
    if (this.#o.watch !== undefined && !this.#o.capture) {
      const url = this.#o.mqttUrl ?? this.plan.mqtt.url;
      if (url) {
        this.#stats.latency = new Histogram();
        this.#watch = await LatencyWatch.start(url, this.#o.watch, this.#stats.latency);
      }
    }
    try {
      await Promise.all(this.#links.map((l) => l.start()));
    } catch (e) {
      await Promise.allSettled(this.#links.map((l) => l.stop()));
      await this.#watch?.stop();
      throw e;
    }
    // time starts once links are up, so connecting does not eat the first intervals
    this.#startAt = this.#clock.now();
    if (this.#o.startEpoch === undefined && this.plan.startEpoch === undefined && !this.#o.capture) this.#rebase();
    for (const d of this.devices) {
      const poll = d.spec.transport === 'serial' && d.spec.profile.transport?.kind === 'serial' ? d.spec.profile.transport.poll : undefined;
      if (poll) this.#polls.set(d.id, new PollAnswerer(poll, () => this.#emit(d, this.#now())));
      else this.#heap.push({ due: d.spec.firstAtMs, item: d });
    }
    this.#timeline.start();
    if (this.plan.durationMs !== undefined) {
      this.#endTimer = this.#clock.setTimeout(() => void this.stop().then(this.#resolveFinished), this.plan.durationMs);
    }
    this.#schedule();
  }

  stats(): StatsSnapshot {
    const connected = this.#connectedAtStop ?? this.#links.filter((l) => l.connected).length;
    const end = this.#stoppedAt ?? this.#clock.now();
    const elapsed = Math.min(end - this.#startAt, this.plan.durationMs ?? Infinity);
    return this.#stats.snapshot({ elapsedMs: elapsed, devices: this.devices.length, links: this.#links.length, connected, targetRate: this.#o.targetRate });
  }

  stop(): Promise<StatsSnapshot> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<StatsSnapshot> {
    this.#stoppedAt = this.#clock.now();
    if (this.#tickTimer) this.#clock.clearTimeout(this.#tickTimer);
    if (this.#endTimer) this.#clock.clearTimeout(this.#endTimer);
    this.#timeline.stop();
    this.#heap.clear();
    const until = Date.now() + (this.#o.drainMs ?? 3000);
    // waiting helps only while some link can still deliver an acknowledgement
    while (this.#pending() > 0 && Date.now() < until && this.#links.some((l) => l.connected)) await new Promise((r) => setTimeout(r, 20));
    this.#connectedAtStop = this.#links.filter((l) => l.connected).length;
    await Promise.allSettled(this.#links.map((l) => l.stop()));
    await this.#watch?.stop();
    const final = this.stats();
    this.#resolveFinished(final);
    return final;
  }

  #pending(): number {
    return this.#stats.sent - this.#stats.acknowledged - this.#stats.failed;
  }

  #now(): number {
    return this.#clock.now() - this.#startAt;
  }

  /** Device clocks read the wall clock at t = 0 when nothing fixed them. */
  #rebase(): void {
    this.startEpoch = this.#clock.now();
    for (const d of this.devices) d.rebase(this.startEpoch);
  }

  #schedule(): void {
    const next = this.#heap.peek();
    if (!next || this.#stopping) return;
    if (this.plan.durationMs !== undefined && next.due >= this.plan.durationMs) return;
    this.#tickTimer = this.#clock.setTimeout(() => this.#tick(), Math.max(0, next.due - this.#now()));
  }

  #tick(): void {
    this.#tickTimer = undefined;
    const now = this.#now();
    const limit = this.#o.batch ?? 2000;
    const end = this.plan.durationMs ?? Infinity;
    const window = this.#o.window ?? 500;
    for (let n = 0; n < limit; n++) {
      const top = this.#heap.peek();
      if (!top || top.due > now || top.due >= end) break;
      const link = this.#linkOf.get(top.item.id);
      if (link?.kind === 'mqtt' && link.connected && (this.#outstanding.get(link) ?? 0) >= window) {
        // backpressure: wait for acknowledgements; the lag histogram shows the cost honestly
        this.#tickTimer = this.#clock.setTimeout(() => this.#tick(), 2);
        return;
      }
      this.#heap.pop();
      this.#stats.lag.record(now - top.due);
      this.#emit(top.item, top.due);
      top.due += top.item.intervalMs();
      this.#heap.push(top);
    }
    this.#schedule();
  }

  #emit(device: SimDevice, t: number, fault?: string): void {
    const { out, suppressed } = device.emit(t);
    if (fault !== undefined) this.#stats.fault(fault).messages += out.length;
    if (suppressed > 0) {
      this.#stats.suppressed += suppressed;
      this.#stats.fault('silence').messages += suppressed;
    }
    for (const m of out) this.#send(device, m);
  }

  #send(device: SimDevice, m: Outgoing): void {
    const link = this.#linkOf.get(device.id);
    const stats = this.#stats;
    stats.sent++;
    stats.readingsSent += m.readings;
    stats.bytes += m.bytes.length;
    for (const f of m.faults) stats.fault(f).messages++;
    if (!link) return this.#failed({ code: 'LINK_DOWN', message: `no link for ${device.id}` });
    this.#outstanding.set(link, (this.#outstanding.get(link) ?? 0) + 1);
    link.send(m, (failure) => {
      this.#outstanding.set(link, this.#outstanding.get(link)! - 1);
      if (failure) return this.#failed(failure);
      stats.acknowledged++;
      stats.readingsAcknowledged += m.readings;
      this.#o.onAcknowledged?.(m);
    });
  }

  #failed(f: SendFailure): void {
    this.#stats.failed++;
    this.#stats.error(f.code, f.message);
  }
}
