/**
 * The rule engine: routes each reading to the rules that read its metric,
 * runs their timers off one injected clock, and swaps rule sets without
 * losing the state of rules that did not change.
 *
 *   const engine = createRuleEngine({ rules, clock, emit });
 *   engine.process(reading);              // alerts and derived readings go to emit
 *   engine.replace(newRules);             // hot reload; unchanged rules keep state
 */
import type { Clock, PipelineRecord } from '../gateway/core/contracts.js';
import type { ReadingRecord } from '../gateway/core/records.js';
import { RateLimiter } from '../gateway/core/rate-limited-log.js';
import { integerText } from '../gateway/core/number-text.js';
import { WakeScheduler } from './scheduler.js';
import { RuleRuntime, READING_TS, CLOCK_NOW, SLOT_DEVICE_TAGS, SLOT_WIDTH, type DeviceSlots, type KeySnapshot, type RuleStats, type RuntimeHost } from './rule-runtime.js';
import { DEFAULT_LIMITS, type CompiledRule, type RuleLimits } from './types.js';

export interface RuleEngineError {
  readonly rule: string;
  readonly key: string | undefined;
  readonly error: unknown;
  /** Errors of this rule not reported since the previous report. */
  readonly suppressed: number;
}

export interface RuleEngineOptions {
  readonly rules: readonly CompiledRule[];
  readonly clock: Clock;
  /** Receives alert records and derived readings, synchronously, in order. */
  readonly emit: (record: PipelineRecord) => void;
  /** Evaluation errors, at most one per rule per `limits.errorReportIntervalMs`. */
  readonly onError?: (e: RuleEngineError) => void;
  readonly limits?: Partial<RuleLimits>;
  /** Record ids; the gateway passes RecordIds.next. Default `rules-<n>`. */
  readonly nextId?: () => string;
  /** Expected reporting interval of a device, from its profile, for absence rules with `missedCadences`. */
  readonly cadenceOf?: (device: string, metric: string) => number | undefined;
}

export interface ReplaceSummary {
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
  readonly kept: readonly string[];
}

export interface EngineSnapshot {
  readonly v: 1;
  readonly takenAt: number;
  readonly rules: Readonly<Record<string, { readonly hash: string; readonly keys: readonly KeySnapshot[] }>>;
}

export interface RuleEngineStats {
  readonly rules: readonly RuleStats[];
  readonly pendingWakeups: number;
  readonly emitErrors: number;
}

export interface RuleEngine {
  process(reading: ReadingRecord): void;
  /** Runs timers that are due; the clock's own timer does this too. */
  tick(): void;
  replace(rules: readonly CompiledRule[]): ReplaceSummary;
  stats(): RuleEngineStats;
  /** Plain JSON: per rule, its definition hash and per-key state. */
  snapshot(): EngineSnapshot;
  /** Loads state for rules whose id and hash match; absence rules apply their grace period. */
  restore(snapshot: EngineSnapshot): { readonly restored: readonly string[]; readonly skipped: readonly string[] };
  rules(): readonly CompiledRule[];
  close(): void;
}

/** Devices whose rule entries are cached; beyond this the cache starts over. */
const MAX_DEVICE_SLOTS = 50_000;

export function createRuleEngine(options: RuleEngineOptions): RuleEngine {
  return new Engine(options);
}

class Engine implements RuleEngine {
  readonly #clock: Clock;
  readonly #scheduler: WakeScheduler;
  /** The engine's view of what it gives every rule: it sets the reading being processed. */
  readonly #host: Omit<RuntimeHost, 'reading'> & { reading: ReadingRecord | undefined };
  readonly #options: RuleEngineOptions;
  readonly #errorGate: RateLimiter;
  readonly #times = new Float64Array(4);
  #runtimes = new Map<string, RuleRuntime>();
  #byMetric = new Map<string, RuleRuntime[]>();
  #anyMetric: RuleRuntime[] = [];
  /** device -> its key entries, states and seen times, by each rule's slotIndex. */
  #slots = new Map<string, DeviceSlots>();
  #slotWidth = 0;
  #emitErrors = 0;

  constructor(options: RuleEngineOptions) {
    this.#options = options;
    this.#clock = options.clock;
    this.#scheduler = new WakeScheduler(options.clock);
    const limits: RuleLimits = { ...DEFAULT_LIMITS, ...options.limits };
    let seq = 0;
    const nextId = options.nextId ?? (() => `rules-${integerText(++seq)}`);
    this.#errorGate = new RateLimiter(1, limits.errorReportIntervalMs, () => this.#clock.now());
    this.#host = {
      limits,
      times: this.#times,
      reading: undefined,
      scheduler: this.#scheduler,
      now: () => this.#clock.now(),
      nextId,
      forgetSlot: (device, slotIndex) => {
        const slot = this.#slots.get(device);
        if (slot !== undefined) slot[slotIndex] = undefined;
      },
      deviceTags: (device) => this.#slots.get(device)?.[SLOT_DEVICE_TAGS] as Readonly<Record<string, string>> | undefined,
      emit: (record) => {
        try {
          options.emit(record);
        } catch (error) {
          // a failing consumer must not break rule state mid-transition
          this.#emitErrors++;
          options.onError?.({ rule: record.kind === 'alert' ? record.rule : record.source, key: undefined, error, suppressed: 0 });
        }
      },
      reportError: (rule, key, error) => {
        const suppressed = this.#errorGate.admit(rule);
        if (suppressed >= 0) options.onError?.({ rule, key, error, suppressed });
      },
    };
    assertUniqueIds(options.rules);
    for (const rule of options.rules) this.#runtimes.set(rule.id, this.#runtime(rule));
    this.#index();
  }

  process(reading: ReadingRecord): void {
    const now = this.#clock.now();
    this.#scheduler.runDue(now);
    const list = this.#byMetric.get(reading.metric);
    if (list === undefined && this.#anyMetric.length === 0) return;
    let slot = this.#slots.get(reading.device);
    if (slot === undefined) {
      // a cache, so a flood of new device ids costs a refill, not memory
      if (this.#slots.size >= MAX_DEVICE_SLOTS) this.#dropSlots();
      slot = new Array<unknown>(this.#slotWidth).fill(undefined);
      this.#slots.set(reading.device, slot);
    }
    if (slot[SLOT_DEVICE_TAGS] !== reading.tags) slot[SLOT_DEVICE_TAGS] = reading.tags;
    const ts = reading.ts;
    const times = this.#times;
    const host = this.#host;
    const outer = host.reading; // an action may run the engine again from inside a rule (re-entry)
    host.reading = reading;
    // rewritten before each rule: an action may run the engine again (re-entry) before the next one
    if (list)
      for (const rt of list) {
        times[READING_TS] = ts;
        times[CLOCK_NOW] = now;
        this.#handle(rt, reading, slot);
      }
    for (const rt of this.#anyMetric) {
      times[READING_TS] = ts;
      times[CLOCK_NOW] = now;
      this.#handle(rt, reading, slot);
    }
    host.reading = outer;
  }

  #handle(rt: RuleRuntime, reading: ReadingRecord, slot: DeviceSlots): void {
    try {
      rt.handle(reading, slot);
    } catch (error) {
      // an operator bug: count it against the rule and keep going
      rt.error(error);
    }
  }

  tick(): void {
    this.#scheduler.runDue(this.#clock.now());
  }

  replace(rules: readonly CompiledRule[]): ReplaceSummary {
    assertUniqueIds(rules);
    const next = new Map<string, RuleRuntime>();
    const added: string[] = [];
    const changed: string[] = [];
    const kept: string[] = [];
    for (const rule of rules) {
      const old = this.#runtimes.get(rule.id);
      if (old && old.rule.hash === rule.hash) {
        next.set(rule.id, old);
        kept.push(rule.id);
      } else {
        next.set(rule.id, this.#runtime(rule));
        (old ? changed : added).push(rule.id);
      }
    }
    const removed: string[] = [];
    for (const [id, old] of this.#runtimes) {
      if (next.get(id) === old) continue;
      if (!next.has(id)) removed.push(id);
      old.dispose(next.has(id) ? 'rule changed' : 'rule removed');
    }
    this.#runtimes = next;
    this.#index();
    return { added, changed, removed, kept };
  }

  stats(): RuleEngineStats {
    return {
      rules: [...this.#runtimes.values()].map((rt) => rt.stats()),
      pendingWakeups: this.#scheduler.pending,
      emitErrors: this.#emitErrors,
    };
  }

  snapshot(): EngineSnapshot {
    this.#settleSlots();
    const rules: Record<string, { hash: string; keys: KeySnapshot[] }> = {};
    for (const [id, rt] of this.#runtimes) rules[id] = { hash: rt.rule.hash, keys: rt.snapshotKeys() };
    // a JSON round trip detaches the snapshot from live state and proves it serializes
    return JSON.parse(JSON.stringify({ v: 1, takenAt: this.#clock.now(), rules })) as EngineSnapshot;
  }

  restore(snapshot: EngineSnapshot): { restored: string[]; skipped: string[] } {
    const restored: string[] = [];
    const skipped: string[] = [];
    for (const [id, saved] of Object.entries(snapshot.rules)) {
      const rt = this.#runtimes.get(id);
      if (!rt || rt.rule.hash !== saved.hash) {
        skipped.push(id);
        continue;
      }
      rt.restoreKeys(structuredClone(saved.keys));
      restored.push(id);
    }
    return { restored, skipped };
  }

  rules(): readonly CompiledRule[] {
    return [...this.#runtimes.values()].map((rt) => rt.rule);
  }

  close(): void {
    this.#scheduler.close();
  }

  #runtime(rule: CompiledRule): RuleRuntime {
    const op = rule.createOperator({ limits: this.#host.limits, cadenceOf: this.#options.cadenceOf });
    // a deadman's keys are silent by nature; idle eviction would defeat it
    const ttl = rule.kind === 'absence' ? Infinity : this.#host.limits.idleTtlMs;
    return new RuleRuntime(rule, op, this.#host, ttl);
  }

  /** Slots hold some state (a quiet key's time): it goes back to the states first. */
  #settleSlots(): void {
    for (const slot of this.#slots.values()) for (const rt of this.#runtimes.values()) rt.settleSlot(slot);
  }

  #dropSlots(): void {
    this.#settleSlots();
    this.#slots.clear();
  }

  #index(): void {
    this.#dropSlots();
    this.#byMetric = new Map();
    this.#anyMetric = [];
    this.#slotWidth = SLOT_DEVICE_TAGS + 1;
    for (const rt of this.#runtimes.values()) {
      rt.slotIndex = -1;
      for (const m of new Set(rt.rule.metrics)) {
        if (m === '*') {
          this.#anyMetric.push(rt);
          continue;
        }
        let list = this.#byMetric.get(m);
        if (!list) this.#byMetric.set(m, (list = []));
        list.push(rt);
      }
    }
    // slots metric by metric: the rules one reading meets sit side by side in its device's slots
    for (const list of [...this.#byMetric.values(), this.#anyMetric]) {
      for (const rt of list) {
        if (rt.slotIndex >= 0 || !rt.cacheable) continue;
        rt.slotIndex = this.#slotWidth;
        this.#slotWidth += SLOT_WIDTH;
      }
    }
  }
}

function assertUniqueIds(rules: readonly CompiledRule[]): void {
  const seen = new Set<string>();
  for (const r of rules) {
    if (seen.has(r.id)) throw new RangeError(`duplicate rule id ${JSON.stringify(r.id)}`);
    seen.add(r.id);
  }
}
