/**
 * absence (deadman): raise when a key has sent nothing for `after`. A key is
 * armed by its first reading, so a device never seen never alerts. When the
 * engine restarts from a snapshot, deadlines move to at least `grace` after
 * the restart, so devices silent during the downtime do not all fire at once.
 * With `missedCadences`, a device whose profile states a cadence gets
 * `missedCadences × cadence` instead of `after`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { COMMON_RULE_PROPS, Duration, MetricSelector } from '../schema-common.js';
import type { ReadingValue, RuleKindDefinition, RuleOperator } from '../types.js';
import { isoTime } from '../template.js';
import { isBefore, NEVER_HI, setTime, timeOf, type SmallTime } from '../small-time.js';

export const AbsenceRule = Type.Object(
  {
    kind: Type.Literal('absence'),
    ...COMMON_RULE_PROPS,
    metric: MetricSelector,
    after: Duration('Raise when a key has sent nothing for longer than this.'),
    grace: Type.Optional(Duration('After a restart from saved state, wait at least this long before raising; default `after`.')),
    missedCadences: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, description: 'When the device profile states a cadence, raise after this many missed reports instead.' }),
    ),
  },
  { additionalProperties: false, description: 'Raise when readings stop (deadman).' },
);
export type AbsenceRule = Static<typeof AbsenceRule>;

interface AbsenceState extends SmallTime {
  // hi, lo: the time of the last reading (read on every reading, for the deadline)
  /** The last value, when a number: a double field is updated in place, where a number stored as a ReadingValue takes a new heap number per reading. */
  lastNumber: number;
  /** The last value when not a number (null while it is one). */
  lastOther: ReadingValue | null;
  /** The silence that raises, for this key. */
  afterMs: number;
  /** No raise before this (grace after a restart); null: none. */
  notBefore: number | null;
  firing: boolean;
}

export const absenceKind: RuleKindDefinition<AbsenceRule> = {
  schema: AbsenceRule,
  compile(def, c) {
    const afterMs = c.duration(def.after);
    const graceMs = def.grace === undefined ? afterMs : c.duration(def.grace);
    const missed = def.missedCadences;
    return {
      knownPlaceholder: (p) => p.length === 1 && ['lastSeen', 'after', 'silentFor'].includes(p[0]!),
      defaultMessage: '{rule}: nothing from {key} since {lastSeen}',
      create(env): RuleOperator<AbsenceState> {
        const silence = (device: string, metric: string): number => {
          const cadence = missed === undefined ? undefined : env.cadenceOf?.(device, metric);
          return cadence === undefined ? afterMs : Math.round(cadence * missed!);
        };
        const deadline = (s: AbsenceState) => (s.notBefore === null ? timeOf(s) + s.afterMs : Math.max(timeOf(s) + s.afterMs, s.notBefore));
        return {
          init: (time) => {
            // lastNumber starts at 0.5 so V8 makes it a double field from the first object on
            const s: AbsenceState = { hi: NEVER_HI, lo: 0, lastNumber: 0.5, lastOther: null, afterMs: afterMs, notBefore: null, firing: false };
            setTime(s, time);
            return s;
          },
          onReading(s, r, out) {
            const time = out.time;
            if (s.firing) {
              s.firing = false;
              const vars = { value: r.value, device: r.device, metric: r.metric, lastSeen: isoTime(timeOf(s)), silentFor: `${Math.round((time - timeOf(s)) / 1000)}s` };
              out.clear(time, r.value, [{ ts: r.ts, device: r.device, metric: r.metric, value: r.value }], vars);
            }
            if (!isBefore(time, s)) {
              setTime(s, time);
              const v = r.value;
              if (typeof v === 'number') {
                s.lastNumber = v;
                if (s.lastOther !== null) s.lastOther = null;
              } else s.lastOther = v;
            }
            s.afterMs = silence(r.device, r.metric);
          },
          onWake(s, out) {
            const now = out.time;
            const due = deadline(s);
            // strictly longer than `after`: a reading exactly at the deadline is in time
            if (s.firing || now <= due) return;
            s.firing = true;
            const vars = { lastSeen: isoTime(timeOf(s)), after: `${s.afterMs / 1000}s`, silentFor: `${Math.round((due - timeOf(s)) / 1000)}s` };
            out.raise(due, undefined, [{ lastSeen: timeOf(s), lastValue: s.lastOther ?? s.lastNumber, expectedWithinMs: s.afterMs }], vars);
          },
          nextWake(s, out) {
            if (!s.firing) out.wakeAt(deadline(s) + 1);
          },
          onRestore(s, now) {
            if (!s.firing) s.notBefore = now + graceMs;
          },
        };
      },
    };
  },
};
