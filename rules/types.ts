/**
 * The shapes rules pass between loader, operators and engine. A rule kind is
 * one file under operators/ that provides a schema, a compile step (definition
 * to a ready operator factory) and the operator itself; see CONTRIBUTING notes
 * in rules/README.md.
 */
import type { TObject } from '@sinclair/typebox';
import type { ReadingRecord } from '../gateway/core/records.js';
import type { ActionSpec } from './schema-common.js';
import type { CompiledExpression, VariableSet } from './expr.js';
import type { Template } from './template.js';

export type RuleKind = 'threshold' | 'window' | 'rate' | 'sequence' | 'absence' | 'group';
export type Severity = 'info' | 'warning' | 'critical';
export type ReadingValue = number | boolean | string;
export type TemplateVars = Record<string, unknown>;

export type KeySpec =
  | { readonly by: 'device' }
  | { readonly by: 'device+metric' }
  | { readonly by: 'tag'; readonly tag: string }
  | { readonly by: 'global' };

export interface RuleLimits {
  /** Keys per rule before the least recently seen is evicted. */
  readonly maxKeysPerRule: number;
  /** Keys idle this long are evicted (absence rules: never, unless the rule says so). */
  readonly idleTtlMs: number;
  /** Items kept in an alert's evidence. */
  readonly maxEvidence: number;
  /** Concurrent partial matches per key in a sequence rule. */
  readonly maxPartialMatches: number;
  /** Points per key kept by sliding windows, rate `over` and percentiles. */
  readonly maxBufferPerKey: number;
  /** onError is called at most once per rule per this interval; the rest are counted. */
  readonly errorReportIntervalMs: number;
}

export const DEFAULT_LIMITS: RuleLimits = Object.freeze({
  maxKeysPerRule: 10_000,
  idleTtlMs: 6 * 3_600_000,
  maxEvidence: 10,
  maxPartialMatches: 8,
  maxBufferPerKey: 10_000,
  errorReportIntervalMs: 60_000,
});

/** Where each operator sends what it found; the engine binds it to the current key. */
export interface OperatorOutput {
  /**
   * The time of this evaluation: the reading's time (or the clock's, for a
   * processing-time rule) in onReading, the clock's in onWake. Read once, first.
   */
  readonly time: number;
  readonly key: string;
  /** The device of the key, when the key is a device (per device or device+metric). */
  readonly device: string | undefined;
  /** The key's tags: for a device's key, those of the device's latest reading. */
  readonly tags: Readonly<Record<string, string>>;
  /** Whether the key's alert is currently asked to be raised (lets an operator skip building a clear nobody needs). */
  readonly raised: boolean;
  raise(ts: number, value: ReadingValue | undefined, evidence: unknown[], vars: TemplateVars): void;
  clear(ts: number, value: ReadingValue | undefined, evidence: unknown[], vars: TemplateVars): void;
  /** A derived reading (e.g. a 1-minute average) for this key. */
  derive(metric: string, value: number, ts: number, unit: string | undefined): void;
  /** From nextWake only: onWake has work to do at this time. */
  wakeAt(time: number): void;
  /** A condition failed to evaluate; counted, and reported through onError now and then. */
  error(e: unknown): void;
  /** A reading arrived too late (window closed) or out of order for this key; counted. */
  late(): void;
  /** A reading the operator cannot use (e.g. a string where a number is needed); counted. */
  ignored(): void;
}

/**
 * A pure, per-key state machine. State is plain data (snapshots are JSON);
 * time comes in as `out.time` and deadlines go out through nextWake, which the
 * engine turns into clock timers. Times are not arguments because an epoch
 * millisecond is too big for a small integer: V8 boxes a double passed to a
 * call it does not inline into a new heap number, and the engine makes ten
 * such calls a reading.
 */
export interface RuleOperator<S> {
  init(time: number): S;
  onReading(state: S, reading: ReadingRecord, out: OperatorOutput): void;
  onWake(state: S, out: OperatorOutput): void;
  /** Tells `out.wakeAt` the earliest time onWake has work to do, if any (a call, not a return value: see above). */
  nextWake(state: S, out: OperatorOutput): void;
  /** After a restart from a snapshot (absence applies its grace period here). */
  onRestore?(state: S, now: number): void;
  /** See QuietPath. */
  readonly quiet?: QuietPath<S> | undefined;
}

/**
 * For an operator whose commonest reading changes nothing but the key's last
 * time (an idle threshold judging false, a sequence with nothing in progress
 * whose first step does not match). While a key `isQuiet`, the runtime keeps
 * that time (the state's `hi`, `lo`: a SmallTime) in the device's slot and
 * asks `keepsQuiet` instead of calling onReading, so such a reading never
 * opens the state; it hands the time back to the state before onReading,
 * snapshots or hot reloads read it. A reading earlier than that time is late,
 * as in onReading. A quiet key wants no wake-up, and onWake (a wake-up queued
 * before it went quiet may still come) must not read the time.
 */
export interface QuietPath<S> {
  isQuiet(state: S): boolean;
  /** true: the reading leaves the key quiet, only its time moves; false: onReading must see it; undefined: it failed (reported through `out`) and changes nothing. */
  keepsQuiet(reading: ReadingRecord, out: OperatorOutput): boolean | undefined;
}

export interface OperatorEnv {
  readonly limits: RuleLimits;
  /** Expected reporting interval of a device (from its profile), for absence rules. */
  readonly cadenceOf: ((device: string, metric: string) => number | undefined) | undefined;
}

export interface CompiledRule {
  readonly id: string;
  readonly kind: RuleKind;
  /** Canonical hash of the definition: unchanged rules keep their state on reload. */
  readonly hash: string;
  readonly file: string;
  /** The validated definition, defaults applied, frozen. */
  readonly definition: Readonly<Record<string, unknown>>;
  /** `*` means every metric. */
  readonly metrics: readonly string[];
  readonly matchDevice: ((device: string) => boolean) | undefined;
  readonly matchTags: readonly (readonly [string, string])[];
  readonly key: KeySpec;
  readonly time: 'event' | 'processing';
  readonly latenessMs: number;
  readonly severity: Severity;
  readonly message: Template;
  readonly clearMessage: Template | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly cooldownMs: number | undefined;
  readonly flap: { readonly transitions: number; readonly withinMs: number } | undefined;
  readonly maxKeys: number | undefined;
  readonly idleTtlMs: number | undefined;
  readonly actions: readonly ActionSpec[];
  createOperator(env: OperatorEnv): RuleOperator<unknown>;
}

/** What a kind's compile step gets: helpers that record problems at the right line:col. */
export interface CompileContext {
  readonly key: KeySpec;
  /** Whether `per` was written (some kinds have no sensible default). */
  readonly perGiven: boolean;
  readonly metrics: readonly string[];
  condition(path: readonly (string | number)[], source: string, variables: VariableSet): CompiledExpression | undefined;
  problem(path: readonly (string | number)[], message: string): void;
  duration(text: string): number;
}

export interface CompiledKind {
  /** Placeholders the kind offers besides rule, key, severity, device, metric, value, ts, tags.*. */
  readonly knownPlaceholder: (path: readonly string[]) => boolean;
  readonly defaultMessage: string;
  /** Metrics the rule reads, when the kind decides (sequence steps); else the rule's `metric`. */
  readonly metrics?: readonly string[];
  create(env: OperatorEnv): RuleOperator<unknown>;
}

export interface RuleKindDefinition<D> {
  readonly schema: TObject;
  compile(def: D, c: CompileContext): CompiledKind | undefined;
}
