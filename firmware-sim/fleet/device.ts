/**
 * One simulated device: samples its signals, stamps its own (possibly wrong)
 * clock, encodes, and applies the faults active on it. It does no I/O and
 * reads no clock: the runner tells it the time, so a fleet replays exactly.
 */
import type { Level } from '../../devices/gpio/chip.js';
import { parseDuration, parseSize } from '../../gateway/core/units.js';
import { fork, type Random } from '../random.js';
import { compileSignal, lerp, roundTo, type Sampler } from '../signals/compile.js';
import type { SimEvent } from '../scenario/events.js';
import { parseSignedDuration } from '../scenario/common.js';
import type { DeviceSpec } from '../scenario/plan.js';
import type { Sample } from '../encode/types.js';
import { Codec } from './codec.js';

export type EventKind = SimEvent['kind'];

/** A message ready for its transport. */
export interface Outgoing {
  readonly device: string;
  readonly topic: string | undefined;
  /** MQTT payload, or serial bytes with checksum and framing. */
  readonly bytes: Buffer;
  /** GPIO only: the physical level to drive. */
  readonly level?: Level;
  /** Readings the gateway should make of it; 0 when a fault broke it. */
  readonly readings: number;
  /** Metrics it carries that the gateway keeps (for recording). */
  readonly metrics: readonly string[];
  readonly sample: Sample;
  /** Faults that shaped this message. */
  readonly faults: readonly EventKind[];
}

export interface ActiveFault {
  readonly index: number;
  readonly event: SimEvent;
  readonly atMs: number;
  readonly random: Random;
}

export interface Emission {
  readonly out: Outgoing[];
  /** Messages a silence swallowed. */
  readonly suppressed: number;
}

type Override = (t: number, base: number) => number;

export class SimDevice {
  readonly spec: DeviceSpec;
  readonly id: string;
  readonly codec: Codec;
  readonly #seed: number | string;
  #startEpoch: number;
  readonly #samplers = new Map<string, Sampler>();
  readonly #overrides = new Map<string, { index: number; fn: Override }>();
  readonly #faults: ActiveFault[] = [];
  readonly #jitter: Random;
  readonly #last: Record<string, number> = {};
  #held: { out: Outgoing[]; after: number }[] = [];
  #seq = 0;
  #level: Level | undefined;

  constructor(spec: DeviceSpec, seed: number | string, startEpoch: number) {
    this.spec = spec;
    this.id = spec.id;
    this.#seed = seed;
    this.#startEpoch = startEpoch;
    this.codec = new Codec(spec);
    this.#jitter = fork(seed, spec.id, 'cadence');
    for (const [metric, steps] of Object.entries(spec.metrics)) {
      this.#samplers.set(metric, compileSignal(steps, fork(seed, spec.id, metric), { phase: spec.phase, offset: spec.offset }));
    }
  }

  get metrics(): string[] {
    return [...this.#samplers.keys()];
  }

  /** The next interval: cadence, jitter, and any burst factor in force. */
  intervalMs(): number {
    const j = this.spec.jitterMs;
    const base = this.spec.cadenceMs + (j > 0 ? (this.#jitter() * 2 - 1) * j : 0);
    const factor = this.#faults.reduce((f, a) => (a.event.kind === 'burst' && a.event.factor ? Math.max(f, a.event.factor) : f), 1);
    // whole milliseconds: device clocks, NDJSON lines and the gateway all keep integer ms
    return Math.max(1, Math.round(base / factor));
  }

  activate(fault: ActiveFault): void {
    const e = fault.event;
    if (e.kind === 'ramp') {
      const from = this.#last[e.metric];
      const over = parseDuration(e.over);
      this.#overrides.set(e.metric, { index: fault.index, fn: (t, base) => lerp(from ?? base, e.to, over === 0 ? 1 : (t - fault.atMs) / over) });
    } else if (e.kind === 'set') {
      const sampler = compileSignal(e.signal, fork(this.#seed, this.id, e.metric, 'set', fault.index), { phase: this.spec.phase });
      this.#overrides.set(e.metric, { index: fault.index, fn: (t) => sampler(t) });
    } else if (e.kind === 'stuck') {
      let held = e.value ?? this.#last[e.metric];
      this.#overrides.set(e.metric, { index: fault.index, fn: (_t, base) => (held ??= base) });
    } else this.#faults.push(fault);
  }

  /** Ends a timeline entry; returns messages an out-of-order fault still held. */
  deactivate(index: number): Outgoing[] {
    for (const [metric, o] of this.#overrides) if (o.index === index) this.#overrides.delete(metric);
    const at = this.#faults.findIndex((f) => f.index === index);
    if (at < 0) return [];
    const [gone] = this.#faults.splice(at, 1);
    if (gone?.event.kind !== 'out-of-order' || this.#active('out-of-order')) return [];
    const held = this.#held.flatMap((h) => h.out);
    this.#held = [];
    return held;
  }

  /** Takes a sample at `t` ms after the start and turns it into messages. */
  emit(t: number): Emission {
    const sample = this.sample(t);
    if (this.#active('silence')) return { out: [], suppressed: 1 };
    if (this.spec.transport === 'gpio') return { out: this.#gpio(sample), suppressed: 0 };
    let out: Outgoing[] = [];
    for (const body of this.codec.encode(sample, this.metrics)) out.push(...this.#withFaults(body.topic, body.payload, this.codec.readings(body), body.metrics, sample));
    out = this.#reorder(out);
    return { out, suppressed: 0 };
  }

  sample(t: number): Sample {
    const values: Record<string, number> = {};
    for (const [metric, sampler] of this.#samplers) {
      const base = sampler(t);
      const o = this.#overrides.get(metric);
      const v = roundTo(o ? o.fn(t, base) : base, this.spec.decimals);
      values[metric] = v;
      this.#last[metric] = v;
    }
    return { device: this.id, seq: this.#seq++, t, ts: this.#clock(t), values };
  }

  /** Moves t = 0 of the device clock (the runner knows the wall time only once links are up). */
  rebase(startEpoch: number): void {
    this.#startEpoch = startEpoch;
  }

  /** Frames a serial device prints when its port opens. */
  preamble(): Buffer[] {
    return this.codec.preamble(this.metrics);
  }

  #clock(t: number): number {
    const skew = [...this.#faults].reverse().find((f) => f.event.kind === 'skew');
    const truth = this.#startEpoch + t;
    if (skew?.event.kind !== 'skew') return truth;
    // a Pi without network time counts from 1970 since it booted (here: since the fault began)
    if (skew.event.unset) return t - skew.atMs;
    return truth + parseSignedDuration(skew.event.offset ?? '0s');
  }

  #active(kind: EventKind): ActiveFault | undefined {
    return this.#faults.find((f) => f.event.kind === kind);
  }

  /** A fault applies to this message when its probability says so (one draw per message, always). */
  #hits(kind: EventKind): boolean {
    const f = this.#active(kind);
    if (!f) return false;
    const p = 'probability' in f.event ? (f.event.probability ?? 1) : 1;
    return f.random() < p;
  }

  #withFaults(topic: string | undefined, payload: Buffer, readings: number, metrics: readonly string[], sample: Sample): Outgoing[] {
    const faults: EventKind[] = [];
    const kept = readings;
    let bytes: Buffer | undefined;
    if (this.#hits('malformed')) {
      faults.push('malformed');
      bytes = this.codec.wire(this.codec.format.malformed({ topic, payload, metrics }, this.#active('malformed')!.random));
      readings = 0;
    } else if (this.#hits('oversized')) {
      const e = this.#active('oversized')!.event;
      const grown = this.codec.format.oversized({ topic, payload, metrics }, e.kind === 'oversized' ? parseSize(e.size) : 0);
      faults.push('oversized');
      bytes = this.codec.wire(grown.payload);
      if (!grown.decodable) readings = 0;
    }
    if (this.#hits('corrupt')) {
      const f = this.#active('corrupt')!;
      const mode = f.event.kind === 'corrupt' ? (f.event.mode ?? 'bytes') : 'bytes';
      const bad = mode === 'checksum' ? this.codec.wireWithWrongChecksum(payload) : this.codec.wireWithNoise(payload, f.random);
      if (bad) (bytes = bad), (readings = 0), faults.push('corrupt');
    }
    if (this.#active('skew')) faults.push('skew');
    const msg: Outgoing = { device: this.id, topic, bytes: bytes ?? this.codec.wire(payload), readings, metrics: readings > 0 ? metrics.slice(0, kept) : [], sample, faults };
    if (!this.#hits('duplicate')) return [msg];
    return [msg, { ...msg, faults: [...faults, 'duplicate'] }];
  }

  /** Out-of-order: a held batch goes out after `depth` later ones. */
  #reorder(out: Outgoing[]): Outgoing[] {
    const released: Outgoing[] = [];
    for (const h of this.#held) h.after--;
    const ready = this.#held.filter((h) => h.after < 0);
    this.#held = this.#held.filter((h) => h.after >= 0);
    // a message that overtakes a held one is not held itself, or the order would just shift by one
    if (out.length > 0 && ready.length === 0 && this.#held.length === 0 && this.#hits('out-of-order')) {
      const e = this.#active('out-of-order')!.event;
      this.#held.push({ out: out.map((o) => ({ ...o, faults: [...o.faults, 'out-of-order'] })), after: e.kind === 'out-of-order' ? (e.depth ?? 1) - 1 : 0 });
    } else released.push(...out);
    for (const h of ready) released.push(...h.out);
    return released;
  }

  #gpio(sample: Sample): Outgoing[] {
    const t = this.spec.profile.transport;
    const metric = this.metrics[0]!;
    const active = (sample.values[metric] ?? 0) >= 0.5;
    const level: Level = (t?.kind === 'gpio' && t.activeLow ? !active : active) ? 1 : 0;
    if (level === this.#level) return [];
    this.#level = level;
    return [{ device: this.id, topic: undefined, bytes: Buffer.alloc(0), level, readings: 1, metrics: [metric], sample, faults: [] }];
  }
}
