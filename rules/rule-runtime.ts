/**
 * One loaded rule at run time: its keyed state (capped, idle-evicted), its
 * operator, its alert lifecycle and its counters. The engine routes readings
 * here; this file turns operator decisions into records.
 */
import type { ReadingRecord } from '../gateway/core/records.js';
import type { PipelineRecord } from '../gateway/core/contracts.js';
import { decideClear, decideRaise, newAlertState, type AlertState } from './alert-lifecycle.js';
import { WakeTarget, type WakeScheduler } from './scheduler.js';
import { hiOf, isBeforeParts, loOf, NEVER_HI, TIME_SPLIT, type SmallTime } from './small-time.js';
import type { CompiledRule, OperatorOutput, QuietPath, ReadingValue, RuleLimits, RuleOperator, TemplateVars } from './types.js';
import { alertRecord, derivedReading, derivedSource } from './out-records.js';

/** Slots of `RuntimeHost.times`: doubles passed without boxing (see RuleOperator). */
export const READING_TS = 0;
export const CLOCK_NOW = 1;
/** The time of the evaluation under way, which operators read as `out.time`. */
export const EVAL_TIME = 2;
/** Where wakeAt leaves the deadline an operator asked for. */
export const WAKE_AT = 3;

/**
 * A device's cache of its rule keys. Its first cell holds the tags of the
 * device's latest reading (SLOT_DEVICE_TAGS). Then, for each rule with a
 * slot, five cells from its slotIndex: the key entry, the entry's state, the
 * entry's touchAt as last seen through this device, and the time this device
 * last queued the entry's wake-up (two small integers, see small-time.ts; the
 * last two cells serve quiet keys and shared keys otherwise, see below).
 * Contiguous, so the rules a reading meets find what they need without
 * opening their entries.
 */
export type DeviceSlots = unknown[];
/** The tags of the device's latest reading: what its keys' alerts and derived readings carry, whenever they fire. */
export const SLOT_DEVICE_TAGS = 0;
export const SLOT_STATE = 1;
export const SLOT_SEEN = 2;
export const SLOT_QUEUED_HI = 3;
export const SLOT_QUEUED_LO = 4;
/**
 * A rule with a quiet path uses the same two cells for its quiet key's last
 * time (QuietPath; null: the state holds it), and keeps no record of queued
 * wake-ups there: its keys tell the scheduler each deadline.
 */
const SLOT_QUIET_HI = 3;
const SLOT_QUIET_LO = 4;
/**
 * A tag's or the global key (shared by devices, never queued through a
 * slot) uses them for when the slot found it: how many of the rule's keys
 * had died by then, and the tags object of that reading.
 */
const SLOT_BURIALS = 3;
const SLOT_TAGS = 4;
export const SLOT_WIDTH = 5;

export interface RuntimeHost {
  readonly limits: RuleLimits;
  /** Four slots: the engine writes READING_TS and CLOCK_NOW before each handle(); the runtime writes EVAL_TIME and WAKE_AT. */
  readonly times: Float64Array;
  /**
   * The reading being processed (undefined outside process()): alerts and
   * derived readings take its tags. Set once per reading by the engine rather
   * than by each rule: storing a young object into an old one costs a write
   * barrier's slow path, ten times a reading.
   */
  readonly reading: ReadingRecord | undefined;
  readonly scheduler: WakeScheduler;
  now(): number;
  nextId(): string;
  emit(record: PipelineRecord): void;
  /** A device-keyed entry died: its device's slot must not serve it again. */
  forgetSlot(device: string, slotIndex: number): void;
  /** The tags of the device's latest reading, while the engine caches its slots. */
  deviceTags(device: string): Readonly<Record<string, string>> | undefined;
  reportError(rule: string, key: string | undefined, error: unknown): void;
}

export interface RuleStats {
  readonly rule: string;
  readonly kind: string;
  readonly evaluations: number;
  readonly raises: number;
  readonly clears: number;
  readonly errors: number;
  readonly late: number;
  readonly ignored: number;
  readonly deduped: number;
  readonly suppressed: number;
  readonly derived: number;
  readonly stateKeys: number;
  readonly firing: number;
  readonly evictions: { readonly capacity: number; readonly idle: number };
  /** Mean time of one evaluation (one reading through this rule), sampled 1 in 64. */
  readonly evalMeanUs: number;
  /** Estimated total evaluation time: mean times evaluations. */
  readonly evalTotalMs: number;
}

export interface KeySnapshot {
  readonly key: string;
  readonly device: string | null;
  readonly tags: Record<string, string>;
  readonly state: unknown;
  readonly alert: AlertState | null;
}

const SAMPLE_EVERY = 64;
/** A grain no clock reaches (a small integer). */
const NEVER_GRAIN = 2 ** 30 - 1;
const KIND_CODES = ['threshold', 'window', 'rate', 'sequence', 'absence', 'group'];
const BY_DEVICE = 0;
const BY_DEVICE_METRIC = 1;
const BY_TAG = 2;
const BY_GLOBAL = 3;

export class KeyEntry extends WakeTarget {
  /** Also in the device's slots (DeviceSlots), where readings find it without opening the entry. */
  state: unknown;
  /**
   * The grain (moveAfter/8, a small integer) holding `seen + moveAfter`, when
   * the key may next be due to move: copied into the device's slots, so a
   * reading before it need not read `seen`.
   */
  touchAt: number;
  /**
   * When the key was last seen, to within limits.idleTtl/16: it is written
   * only when it moves that much (and the key moves to the back of the map),
   * so the hot path rarely writes it, and reads it only near that point.
   */
  seen: number;
  alert: AlertState | undefined = undefined;
  readonly runtime: RuleRuntime;
  readonly key: string;
  readonly device: string | undefined;
  tags: Readonly<Record<string, string>>;
  constructor(runtime: RuleRuntime, key: string, device: string | undefined, tags: Readonly<Record<string, string>>, state: unknown, seen: number, touchAt: number) {
    super();
    this.state = state;
    this.touchAt = touchAt;
    this.seen = seen;
    this.runtime = runtime;
    this.key = key;
    this.device = device;
    this.tags = tags;
  }
  wake(now: number): void {
    this.runtime.wakeKey(this, now);
  }
}

export class RuleRuntime implements OperatorOutput {
  readonly rule: CompiledRule;
  readonly #op: RuleOperator<unknown>;
  readonly #host: RuntimeHost;
  readonly #times: Float64Array;
  readonly #keys = new Map<string, KeyEntry>();
  readonly #maxKeys: number;
  readonly #ttl: number;
  readonly #sweeper: Sweeper;
  #current: KeyEntry | undefined;
  // the rule's settings as plain fields: the hot path reads these for every reading
  readonly #tagKeys: string[];
  readonly #tagValues: string[];
  readonly #keyBy: number;
  readonly #keyTag: string;
  readonly #eventTime: boolean;
  readonly #moveAfter: number;
  /** 1 / (moveAfter / 8): grains by a multiplication, as a division per rule per reading is slow. */
  readonly #perGrain: number;
  readonly #matchDevice: ((device: string) => boolean) | undefined;
  readonly #kindCode: number;
  readonly #derivedSource: string;
  /** The operator's quiet path, when this rule's keys are its devices' own (one slot per key). */
  readonly #quiet: QuietPath<unknown> | undefined;
  /** Keys of this rule that have died: a shared key's slot remembers the count it was found at. */
  #burials = 0;
  /** Whether onWake is running, and the key whose tags it has taken from its device's slot (#tagsNow). */
  #waking = false;
  #tagsTaken: KeyEntry | undefined = undefined;
  /** Whether the operator called wakeAt since the runtime last asked it (nextWake). */
  #wish = false;
  #disposed = false;
  #s = { evaluations: 0, raises: 0, clears: 0, errors: 0, late: 0, ignored: 0, deduped: 0, suppressed: 0, derived: 0, firing: 0, capacity: 0, idle: 0, sampleN: 0, sampleMs: 0 };

  constructor(rule: CompiledRule, op: RuleOperator<unknown>, host: RuntimeHost, defaultTtl: number) {
    this.rule = rule;
    this.#op = op;
    this.#host = host;
    this.#times = host.times;
    this.#maxKeys = rule.maxKeys ?? host.limits.maxKeysPerRule;
    this.#ttl = rule.idleTtlMs ?? defaultTtl;
    this.#tagKeys = rule.matchTags.map(([k]) => k);
    this.#tagValues = rule.matchTags.map(([, v]) => v);
    const key = rule.key;
    this.#keyBy = key.by === 'device' ? BY_DEVICE : key.by === 'device+metric' ? BY_DEVICE_METRIC : key.by === 'tag' ? BY_TAG : BY_GLOBAL;
    this.#keyTag = key.by === 'tag' ? key.tag : '';
    this.#eventTime = rule.time === 'event';
    this.#kindCode = KIND_CODES.indexOf(rule.kind);
    this.#derivedSource = derivedSource(rule);
    this.#quiet = this.#keyBy <= BY_DEVICE_METRIC ? op.quiet : undefined;
    this.#moveAfter = this.#ttl / 16;
    this.#perGrain = 8 / this.#moveAfter;
    this.#matchDevice = rule.matchDevice;
    this.#sweeper = new Sweeper(this);
  }

  // ── OperatorOutput, bound to the key being worked on ──
  get time(): number {
    return this.#times[EVAL_TIME]!;
  }
  get key(): string {
    return this.#current!.key;
  }
  get device(): string | undefined {
    return this.#current!.device;
  }
  get tags(): Readonly<Record<string, string>> {
    return this.#tagsNow(this.#current!);
  }
  get raised(): boolean {
    return this.#current!.alert?.desired === 1;
  }
  raise(ts: number, value: ReadingValue | undefined, evidence: unknown[], vars: TemplateVars): void {
    const e = this.#current!;
    e.alert ??= newAlertState();
    const d = decideRaise(e.alert, ts, this.rule);
    if (d === 'emit') this.#emitAlert(e, 'raise', ts, value, evidence, vars);
    else if (d === 'dedupe') this.#s.deduped++;
    else this.#s.suppressed++;
  }
  clear(ts: number, value: ReadingValue | undefined, evidence: unknown[], vars: TemplateVars): void {
    const e = this.#current!;
    if (!e.alert) return;
    const d = decideClear(e.alert, ts, this.rule);
    if (d === 'emit') this.#emitAlert(e, 'clear', ts, value, evidence, vars);
    else if (d === 'flapping') this.#s.suppressed++;
  }
  derive(metric: string, value: number, ts: number, unit: string | undefined): void {
    const e = this.#current!;
    const h = this.#host;
    const tags = this.#tagsNow(e);
    this.#s.derived++;
    h.emit(derivedReading({ source: this.#derivedSource, id: h.nextId(), device: e.device ?? e.key, tags, metric, value, unit, ts, receivedAt: h.now() }));
  }
  wakeAt(time: number): void {
    if (!Number.isFinite(time)) return; // never: no wake-up (and no NaN in the scheduler's heap)
    this.#times[WAKE_AT] = time;
    this.#wish = true;
  }
  error(e: unknown): void {
    this.#s.errors++;
    this.#host.reportError(this.rule.id, this.#current?.key, e);
  }
  late(): void {
    this.#s.late++;
  }
  ignored(): void {
    this.#s.ignored++;
  }

  // ── driven by the engine ──
  /**
   * Where this rule keeps its entry in the engine's per-device slot array
   * (-1: none). A slot is only a cache of `#keys`: one Map lookup per reading
   * (the device's) serves every rule, instead of one per rule with a key
   * string built for it.
   */
  slotIndex = -1;

  /** Whether the engine should give this rule a slot: not when one device's readings map to several keys. */
  get cacheable(): boolean {
    const metrics = this.rule.metrics;
    return this.#keyBy !== BY_DEVICE_METRIC || (metrics.length === 1 && metrics[0] !== '*');
  }

  /** The engine has written the reading's time and the clock's into `host.times`. */
  handle(r: ReadingRecord, slot: DeviceSlots): void {
    const matchDevice = this.#matchDevice;
    if (matchDevice !== undefined && !matchDevice(r.device)) return;
    const tagKeys = this.#tagKeys;
    if (tagKeys.length > 0) for (let i = 0; i < tagKeys.length; i++) if (r.tags[tagKeys[i]!] !== this.#tagValues[i]) return;
    const times = this.#times;
    const now = times[CLOCK_NOW]!;
    const time = this.#eventTime ? times[READING_TS]! : now;
    const at = this.slotIndex;
    let e = at >= 0 ? (slot[at] as KeyEntry | undefined) : undefined;
    // A device-keyed entry leaves its slots when it dies (forgetSlot), so finding it is enough. A
    // tag's or the global key is shared by many devices' slots: it must still be alive, and the
    // device must still have that tag (see #sharedKeyHolds).
    if (e === undefined || (this.#keyBy >= BY_TAG && !this.#sharedKeyHolds(e, r, slot, at))) {
      const key = this.#keyOf(r);
      if (key === undefined) {
        this.#s.ignored++; // the reading lacks the tag this rule is keyed by
        return;
      }
      e = this.#keys.get(key);
      if (e === undefined) e = this.#create(key, r, time, now);
      if (at >= 0) {
        slot[at] = e;
        slot[at + SLOT_STATE] = e.state;
        slot[at + SLOT_SEEN] = e.touchAt;
        if (this.#keyBy >= BY_TAG) {
          slot[at + SLOT_BURIALS] = this.#burials;
          slot[at + SLOT_TAGS] = r.tags;
        } else {
          slot[at + SLOT_QUEUED_HI] = this.#quiet === undefined ? NEVER_HI : null;
          slot[at + SLOT_QUEUED_LO] = 0;
        }
      }
    }
    const state = at >= 0 ? slot[at + SLOT_STATE] : e.state;
    // before the grain in which it can be due to move, a key need not be looked at
    const coarse = Math.floor(now * this.#perGrain);
    if (coarse >= ((at >= 0 ? slot[at + SLOT_SEEN] : e.touchAt) as number)) this.#touch(e, now, slot, at);
    this.#current = e;
    times[EVAL_TIME] = time;
    const s = this.#s;
    const sample = ++s.evaluations % SAMPLE_EVERY === 0;
    const quiet = at >= 0 ? this.#quiet : undefined;
    if (quiet !== undefined && typeof slot[at + SLOT_QUIET_HI] === 'number') {
      // sampled evaluations take the full path, so evalMeanUs stays the mean of all kinds of reading
      if (!sample && this.#quietReading(quiet, r, time, slot, at)) return;
      this.#unquiet(state as SmallTime, slot, at);
    }
    if (sample) {
      const t0 = performance.now();
      this.#onReading(state, r);
      s.sampleMs += performance.now() - t0;
      s.sampleN++;
    } else {
      this.#onReading(state, r);
    }
    if (quiet !== undefined && quiet.isQuiet(state)) {
      // a quiet key wants no wake-up: nothing to schedule
      slot[at + SLOT_QUIET_HI] = (state as SmallTime).hi;
      slot[at + SLOT_QUIET_LO] = (state as SmallTime).lo;
      return;
    }
    this.#reschedule(e, state, slot, at, now);
  }

  /**
   * Whether a shared key found in the device's slot still serves this
   * reading. Most readings answer from the slot alone (nothing of this rule
   * died since, and the same tags object as then, so the same tag value);
   * otherwise the entry itself is asked, which costs a cache miss.
   */
  #sharedKeyHolds(e: KeyEntry, r: ReadingRecord, slot: DeviceSlots, at: number): boolean {
    if (slot[at + SLOT_BURIALS] === this.#burials && (this.#keyBy === BY_GLOBAL || slot[at + SLOT_TAGS] === r.tags)) return true;
    if (!e.alive || (this.#keyBy === BY_TAG && e.key !== r.tags[this.#keyTag])) return false;
    slot[at + SLOT_BURIALS] = this.#burials;
    slot[at + SLOT_TAGS] = r.tags;
    return true;
  }

  /** A reading for a quiet key, whose time the slot holds: whether it was dealt with here (late, failed, or kept quiet). */
  #quietReading(quiet: QuietPath<unknown>, r: ReadingRecord, time: number, slot: DeviceSlots, at: number): boolean {
    if (isBeforeParts(time, slot[at + SLOT_QUIET_HI] as number, slot[at + SLOT_QUIET_LO] as number)) {
      this.#s.late++;
      return true;
    }
    const keeps = quiet.keepsQuiet(r, this);
    if (keeps === false) return false;
    if (keeps) {
      const th = hiOf(time);
      slot[at + SLOT_QUIET_HI] = th;
      slot[at + SLOT_QUIET_LO] = loOf(time, th);
    }
    return true;
  }

  /** The state takes its time back from the slot (before anything reads it). */
  #unquiet(state: SmallTime, slot: DeviceSlots, at: number): void {
    state.hi = slot[at + SLOT_QUIET_HI] as number;
    state.lo = slot[at + SLOT_QUIET_LO] as number;
    slot[at + SLOT_QUIET_HI] = null;
  }

  /** Before the engine drops a device's slots or snapshots the state: the device's latest tags go to its key, a quiet key's time back to its state. */
  settleSlot(slot: DeviceSlots): void {
    const at = this.slotIndex;
    if (at < 0 || slot[at] === undefined || this.#keyBy > BY_DEVICE_METRIC) return;
    const e = slot[at] as KeyEntry;
    const tags = slot[SLOT_DEVICE_TAGS] as Readonly<Record<string, string>> | undefined;
    if (tags !== undefined && e.tags !== tags) e.tags = tags;
    if (this.#quiet === undefined || typeof slot[at + SLOT_QUIET_HI] !== 'number') return;
    this.#unquiet(slot[at + SLOT_STATE] as SmallTime, slot, at);
  }

  /**
   * Approximate LRU: a key moves to the back of the map now and then, not on
   * every reading: once `seen` is more than moveAfter old. Only readings in
   * or after the grain holding that moment look (touchAt); the device's slot
   * keeps its own copy of touchAt, so other readings need not open the entry
   * at all. Another device sharing the key may have moved it since, which the
   * entry's own `seen` tells.
   */
  #touch(e: KeyEntry, now: number, slot: DeviceSlots, at: number): void {
    if (now - e.seen > this.#moveAfter) {
      this.#keys.delete(e.key);
      this.#keys.set(e.key, e);
      e.seen = now;
      e.touchAt = this.#touchAt(now);
    }
    if (at >= 0) slot[at + SLOT_SEEN] = e.touchAt;
  }

  /**
   * The grain holding `seen + moveAfter`, less a few units in the last place
   * for the rounding of the sum and of perGrain (so it is never a grain late);
   * never, for rules without an idle TTL (perGrain 0).
   */
  #touchAt(seen: number): number {
    if (this.#perGrain === 0) return NEVER_GRAIN;
    const grains = (seen + this.#moveAfter) * this.#perGrain;
    return Math.floor(grains - Math.abs(grains) * 1e-15);
  }

  /**
   * One call site per rule kind: a single site seeing every kind goes
   * megamorphic, which costs a stub lookup per call, rules out inlining and
   * boxes the time argument into a fresh heap number on every call.
   */
  #onReading(state: unknown, r: ReadingRecord): void {
    const op = this.#op;
    switch (this.#kindCode) {
      case 0:
        return op.onReading(state, r, this);
      case 1:
        return op.onReading(state, r, this);
      case 2:
        return op.onReading(state, r, this);
      case 3:
        return op.onReading(state, r, this);
      case 4:
        return op.onReading(state, r, this);
      default:
        return op.onReading(state, r, this);
    }
  }

  #nextWake(state: unknown): void {
    const op = this.#op;
    switch (this.#kindCode) {
      case 0:
        return op.nextWake(state, this);
      case 1:
        return op.nextWake(state, this);
      case 2:
        return op.nextWake(state, this);
      case 3:
        return op.nextWake(state, this);
      case 4:
        return op.nextWake(state, this);
      default:
        return op.nextWake(state, this);
    }
  }

  #keyOf(r: ReadingRecord): string | undefined {
    switch (this.#keyBy) {
      case BY_DEVICE:
        return r.device;
      case BY_DEVICE_METRIC:
        return `${r.device}/${r.metric}`;
      case BY_TAG:
        return r.tags[this.#keyTag];
      default:
        return '*';
    }
  }

  wakeKey(e: KeyEntry, now: number): void {
    if (this.#disposed) return;
    this.#current = e;
    this.#times[EVAL_TIME] = now;
    this.#waking = true;
    try {
      this.#op.onWake(e.state, this);
    } finally {
      this.#waking = false;
      this.#tagsTaken = undefined;
    }
    // the scheduler queues the new wish
    this.#wish = false;
    this.#nextWake(e.state);
    if (this.#wish) e.wantWakeAt(this.#times[WAKE_AT]!);
    else e.wants = false;
  }

  stats(): RuleStats {
    const s = this.#s;
    const mean = s.sampleN ? s.sampleMs / s.sampleN : 0;
    return {
      rule: this.rule.id,
      kind: this.rule.kind,
      evaluations: s.evaluations,
      raises: s.raises,
      clears: s.clears,
      errors: s.errors,
      late: s.late,
      ignored: s.ignored,
      deduped: s.deduped,
      suppressed: s.suppressed,
      derived: s.derived,
      stateKeys: this.#keys.size,
      firing: s.firing,
      evictions: { capacity: s.capacity, idle: s.idle },
      evalMeanUs: mean * 1000,
      evalTotalMs: mean * s.evaluations,
    };
  }

  snapshotKeys(): KeySnapshot[] {
    const out: KeySnapshot[] = [];
    for (const e of this.#keys.values()) {
      out.push({ key: e.key, device: e.device ?? null, tags: { ...e.tags }, state: e.state, alert: e.alert ?? null });
    }
    return out;
  }

  restoreKeys(keys: readonly KeySnapshot[]): void {
    const now = this.#host.now();
    for (const k of keys) {
      const existing = this.#keys.get(k.key);
      if (existing) this.#bury(existing); // the saved state wins; stale wake-ups and cached slots must not find the old one
      const e = new KeyEntry(this, k.key, k.device ?? undefined, k.tags, k.state, now, this.#touchAt(now));
      if (k.alert) {
        e.alert = k.alert;
        if (k.alert.emitted === 1) this.#s.firing++;
      }
      this.#keys.set(k.key, e);
      this.#op.onRestore?.(e.state, now);
      this.#reschedule(e, e.state, undefined, -1, now);
    }
    this.#scheduleSweep();
  }

  /** Retires the rule: every raised alert is cleared so no subscriber is left with a stale one. */
  dispose(reason: string): void {
    this.#disposed = true;
    this.#sweeper.alive = false;
    const now = this.#host.now();
    for (const e of this.#keys.values()) this.#evict(e, now, reason, false);
    this.#keys.clear();
  }

  #create(key: string, r: ReadingRecord, time: number, now: number): KeyEntry {
    if (this.#keys.size >= this.#maxKeys) {
      const oldest = this.#keys.values().next().value;
      if (oldest) {
        this.#s.capacity++;
        this.#evict(oldest, now, `state evicted: more than ${this.#maxKeys} keys`, true);
      }
    }
    const byDevice = this.rule.key.by === 'device' || this.rule.key.by === 'device+metric';
    const tags = byDevice ? r.tags : this.rule.key.by === 'tag' ? { [this.rule.key.tag]: key } : {};
    const e = new KeyEntry(this, key, byDevice ? r.device : undefined, tags, this.#op.init(time), now, this.#touchAt(now));
    this.#keys.set(key, e);
    if (this.#keys.size === 1) this.#scheduleSweep();
    return e;
  }

  /**
   * After a reading: asks the operator for the key's next deadline (through
   * wakeAt) and tells the entry, which is mostly not in the CPU cache, only
   * when it must. A key that wants nothing is not written to: a wish it had
   * stays set, and its wake-up finds nothing to do and clears it (wakeKey).
   * A deadline at or after a wake-up queued for a device key, still ahead,
   * is not told either: that wake-up comes first and asks the operator again
   * (the scheduler's lazy extension). The device's slot records the entry's
   * queue time whenever it tells the entry; a key's own wake-up may queue it
   * again unseen, which leaves the record in the past until the next telling.
   */
  #reschedule(e: KeyEntry, state: unknown, slot: DeviceSlots | undefined, at: number, now: number): void {
    this.#wish = false;
    this.#nextWake(state);
    if (!this.#wish) return;
    const want = this.#times[WAKE_AT]!;
    const cached = slot !== undefined && at >= 0 && this.#keyBy <= BY_DEVICE_METRIC && this.#quiet === undefined;
    if (cached) {
      const hi = slot[at + SLOT_QUEUED_HI] as number;
      if (hi !== NEVER_HI) {
        const queued = hi * TIME_SPLIT + (slot[at + SLOT_QUEUED_LO] as number);
        if (queued > now && want >= queued) return;
      }
    }
    e.wantWakeAt(want);
    this.#host.scheduler.update(e);
    // the slot learns what is queued now: this wish, or an earlier wake-up queued since (by a
    // wake-up of the key itself, which the slot does not see), so later readings need not ask again
    if (cached && e.queued) {
      const queuedAt = e.queuedAt;
      const hi = hiOf(queuedAt);
      slot[at + SLOT_QUEUED_HI] = hi;
      slot[at + SLOT_QUEUED_LO] = loOf(queuedAt, hi);
    }
  }

  #scheduleSweep(): void {
    if (!Number.isFinite(this.#ttl) || this.#disposed) return;
    if (!this.#sweeper.wants) this.#sweeper.wantWakeAt(this.#host.now() + this.#sweepInterval());
    this.#host.scheduler.update(this.#sweeper);
  }

  #sweepInterval(): number {
    return Math.min(60_000, Math.max(1000, Math.floor(this.#ttl / 10)));
  }

  /** Evicts idle keys and says when to look again; the Sweeper calls it. */
  sweep(now: number): number | undefined {
    this.#sweep(now);
    return this.#keys.size > 0 ? now + this.#sweepInterval() : undefined;
  }

  #sweep(now: number): void {
    // the map is ordered by `seen`; a key may have been seen up to moveAfter later than that
    for (const e of this.#keys.values()) {
      if (e.seen + this.#ttl + this.#moveAfter > now) break;
      this.#s.idle++;
      this.#evict(e, now, `state evicted: no reading for ${Math.round(this.#ttl / 1000)}s`, true);
    }
  }

  #evict(e: KeyEntry, now: number, reason: string, remove: boolean): void {
    this.#bury(e);
    if (remove) this.#keys.delete(e.key);
    if (e.alert?.emitted === 1) {
      e.alert.emitted = 0;
      this.#emitAlert(e, 'clear', now, undefined, [{ reason }], {}, reason);
    }
  }

  /** Marks an entry dead for the scheduler, and takes a device's entry out of the device's slots. */
  #bury(e: KeyEntry): void {
    e.alive = false;
    this.#burials++;
    if (this.#keyBy <= BY_DEVICE_METRIC && e.device !== undefined && this.slotIndex >= 0) this.#host.forgetSlot(e.device, this.slotIndex);
  }

  /**
   * A device key's tags are those of its device's latest reading; they are
   * taken when something is emitted or asked for (from the reading being
   * processed when it is this device's, else from the device's slot), not on
   * every reading. So a window closed by a timer carries the tags the device
   * has now, not those it had when the key was made.
   */
  #tagsNow(e: KeyEntry): Readonly<Record<string, string>> {
    if (this.#keyBy > BY_DEVICE_METRIC || e.device === undefined || this.#tagsTaken === e) return e.tags;
    const r = this.#host.reading;
    let latest: Readonly<Record<string, string>> | undefined;
    if (r !== undefined && r.device === e.device) latest = r.tags;
    else {
      latest = this.#host.deviceTags(e.device);
      // a wake-up may ask twice (a window's derived reading and its `having`): one lookup serves both
      if (this.#waking) this.#tagsTaken = e;
    }
    if (latest !== undefined && e.tags !== latest) e.tags = latest;
    return e.tags;
  }

  #emitAlert(e: KeyEntry, state: 'raise' | 'clear', ts: number, value: ReadingValue | undefined, evidence: unknown[], vars: TemplateVars, note?: string): void {
    const h = this.#host;
    const record = alertRecord({
      rule: this.rule, id: h.nextId(), key: e.key, device: e.device, tags: this.#tagsNow(e),
      state, ts, value, evidence, vars, maxEvidence: h.limits.maxEvidence, note,
    });
    if (state === 'raise') {
      this.#s.raises++;
      this.#s.firing++;
    } else {
      this.#s.clears++;
      this.#s.firing--;
    }
    h.emit(record);
  }
}

/** A rule's idle-key sweep, on the same scheduler as its keys. */
class Sweeper extends WakeTarget {
  readonly #runtime: RuleRuntime;
  constructor(runtime: RuleRuntime) {
    super();
    this.#runtime = runtime;
  }
  wake(now: number): void {
    const next = this.#runtime.sweep(now);
    if (next === undefined) this.wants = false;
    else this.wantWakeAt(next);
  }
}
