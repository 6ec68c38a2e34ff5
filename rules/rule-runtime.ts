/**
 * One loaded rule at run time: its keyed state (capped, idle-evicted), its
 * operator, its alert lifecycle and its counters. The engine routes readings
 * here; this file turns operator decisions into records.
 */
import type { ReadingRecord, AlertRecord } from '../gateway/core/records.js';
import type { PipelineRecord } from '../gateway/core/contracts.js';
import { decideClear, decideRaise, newAlertState, type AlertState } from './alert-lifecycle.js';
import type { WakeScheduler, WakeTarget } from './scheduler.js';
import type { CompiledRule, OperatorOutput, ReadingValue, RuleLimits, RuleOperator, TemplateVars } from './types.js';
import { isoTime } from './template.js';

export interface RuntimeHost {
  readonly limits: RuleLimits;
  readonly scheduler: WakeScheduler;
  now(): number;
  nextId(): string;
  emit(record: PipelineRecord): void;
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

class KeyEntry implements WakeTarget {
  want: number | undefined = undefined;
  queued: number | undefined = undefined;
  alive = true;
  alert: AlertState | undefined = undefined;
  constructor(
    readonly runtime: RuleRuntime,
    readonly key: string,
    readonly device: string | undefined,
    public tags: Readonly<Record<string, string>>,
    public state: unknown,
    public lastSeen: number,
    public movedAt: number,
  ) {}
  wake(now: number): void {
    this.runtime.wakeKey(this, now);
  }
}

export class RuleRuntime implements OperatorOutput {
  readonly rule: CompiledRule;
  readonly #op: RuleOperator<unknown>;
  readonly #host: RuntimeHost;
  readonly #keys = new Map<string, KeyEntry>();
  readonly #maxKeys: number;
  readonly #ttl: number;
  readonly #sweeper: WakeTarget;
  #current: KeyEntry | undefined;
  #disposed = false;
  #s = { evaluations: 0, raises: 0, clears: 0, errors: 0, late: 0, ignored: 0, deduped: 0, suppressed: 0, derived: 0, firing: 0, capacity: 0, idle: 0, sampleN: 0, sampleMs: 0 };

  constructor(rule: CompiledRule, op: RuleOperator<unknown>, host: RuntimeHost, defaultTtl: number) {
    this.rule = rule;
    this.#op = op;
    this.#host = host;
    this.#maxKeys = rule.maxKeys ?? host.limits.maxKeysPerRule;
    this.#ttl = rule.idleTtlMs ?? defaultTtl;
    this.#sweeper = {
      want: undefined,
      queued: undefined,
      alive: true,
      wake: (now) => {
        this.#sweep(now);
        this.#sweeper.want = this.#keys.size > 0 ? now + this.#sweepInterval() : undefined;
      },
    };
  }

  // ── OperatorOutput, bound to the key being worked on ──
  get key(): string {
    return this.#current!.key;
  }
  get device(): string | undefined {
    return this.#current!.device;
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
    const record: ReadingRecord = {
      v: 1,
      kind: 'reading',
      id: this.#host.nextId(),
      device: e.device ?? e.key,
      metric,
      value,
      ...(unit === undefined ? {} : { unit }),
      ts: Math.round(ts),
      receivedAt: this.#host.now(),
      source: `rule:${this.rule.id}`,
      tags: { ...e.tags },
    };
    this.#s.derived++;
    this.#host.emit(record);
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
  handle(r: ReadingRecord, now: number): void {
    const rule = this.rule;
    if (rule.matchDevice && !rule.matchDevice(r.device)) return;
    for (const [k, v] of rule.matchTags) if (r.tags[k] !== v) return;
    let key: string | undefined;
    switch (rule.key.by) {
      case 'device':
        key = r.device;
        break;
      case 'device+metric':
        key = `${r.device}/${r.metric}`;
        break;
      case 'tag':
        key = r.tags[rule.key.tag];
        break;
      case 'global':
        key = '*';
        break;
    }
    if (key === undefined) {
      this.#s.ignored++; // the reading lacks the tag this rule is keyed by
      return;
    }
    const time = rule.time === 'event' ? r.ts : now;
    let e = this.#keys.get(key);
    if (e === undefined) e = this.#create(key, r, time, now);
    else if (now - e.movedAt > this.#ttl / 16) {
      // approximate LRU: move a key to the back of the map now and then, not on every reading
      this.#keys.delete(key);
      this.#keys.set(key, e);
      e.movedAt = now;
    }
    e.lastSeen = now;
    if (rule.key.by !== 'tag' && rule.key.by !== 'global') e.tags = r.tags;
    this.#current = e;
    const s = this.#s;
    if (++s.evaluations % SAMPLE_EVERY === 0) {
      const t0 = performance.now();
      this.#op.onReading(e.state, r, time, this);
      s.sampleMs += performance.now() - t0;
      s.sampleN++;
    } else {
      this.#op.onReading(e.state, r, time, this);
    }
    this.#reschedule(e);
  }

  wakeKey(e: KeyEntry, now: number): void {
    if (this.#disposed) return;
    this.#current = e;
    this.#op.onWake(e.state, now, this);
    e.want = this.#op.nextWake(e.state);
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
      const e = new KeyEntry(this, k.key, k.device ?? undefined, k.tags, k.state, now, now);
      if (k.alert) {
        e.alert = k.alert;
        if (k.alert.emitted === 1) this.#s.firing++;
      }
      this.#keys.set(k.key, e);
      this.#op.onRestore?.(e.state, now);
      this.#reschedule(e);
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
    const e = new KeyEntry(this, key, byDevice ? r.device : undefined, tags, this.#op.init(time), now, now);
    this.#keys.set(key, e);
    if (this.#keys.size === 1) this.#scheduleSweep();
    return e;
  }

  #reschedule(e: KeyEntry): void {
    e.want = this.#op.nextWake(e.state);
    if (e.want !== undefined) this.#host.scheduler.update(e);
  }

  #scheduleSweep(): void {
    if (!Number.isFinite(this.#ttl) || this.#disposed) return;
    this.#sweeper.want ??= this.#host.now() + this.#sweepInterval();
    this.#host.scheduler.update(this.#sweeper);
  }

  #sweepInterval(): number {
    return Math.min(60_000, Math.max(1000, Math.floor(this.#ttl / 10)));
  }

  #sweep(now: number): void {
    for (const e of this.#keys.values()) {
      if (e.movedAt + this.#ttl > now) break; // the map is ordered by movedAt
      if (e.lastSeen + this.#ttl <= now) {
        this.#s.idle++;
        this.#evict(e, now, `state evicted: no reading for ${Math.round(this.#ttl / 1000)}s`, true);
      } else {
        this.#keys.delete(e.key);
        this.#keys.set(e.key, e);
        e.movedAt = e.lastSeen;
      }
    }
  }

  #evict(e: KeyEntry, now: number, reason: string, remove: boolean): void {
    e.alive = false;
    if (remove) this.#keys.delete(e.key);
    if (e.alert?.emitted === 1) {
      e.alert.emitted = 0;
      this.#emitAlert(e, 'clear', now, undefined, [{ reason }], {}, reason);
    }
  }

  #emitAlert(
    e: KeyEntry,
    state: 'raise' | 'clear',
    ts: number,
    value: ReadingValue | undefined,
    evidence: unknown[],
    vars: TemplateVars,
    forcedMessage?: string,
  ): void {
    const rule = this.rule;
    const all: TemplateVars = { ...vars, rule: rule.id, key: e.key, severity: rule.severity, labels: rule.labels };
    all['device'] ??= e.device;
    all['tags'] ??= e.tags;
    if (typeof all['ts'] === 'number') all['ts'] = isoTime(all['ts']);
    let message: string;
    if (forcedMessage !== undefined) message = `${rule.message.render(all)} (${forcedMessage})`;
    else if (state === 'raise') message = rule.message.render(all);
    else message = rule.clearMessage ? rule.clearMessage.render(all) : `resolved: ${rule.message.render(all)}`;
    const max = this.#host.limits.maxEvidence;
    const record: AlertRecord = {
      v: 1,
      kind: 'alert',
      id: this.#host.nextId(),
      rule: rule.id,
      key: e.key,
      ...(e.device === undefined ? {} : { device: e.device }),
      state,
      severity: rule.severity,
      message,
      ts: Math.round(ts),
      ...(value === undefined ? {} : { value }),
      evidence: evidence.length > max ? evidence.slice(evidence.length - max) : evidence,
      tags: { ...e.tags, ...rule.labels },
    };
    if (state === 'raise') {
      this.#s.raises++;
      this.#s.firing++;
    } else {
      this.#s.clears++;
      this.#s.firing--;
    }
    this.#host.emit(record);
  }
}
