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

interface AbsenceState {
  lastTs: number;
  lastValue: ReadingValue | null;
  /** The silence that raises, for this key. */
  afterMs: number;
  /** No raise before this (grace after a restart). */
  notBefore: number;
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
        const deadline = (s: AbsenceState) => Math.max(s.lastTs + s.afterMs, s.notBefore);
        return {
          init: (time) => ({ lastTs: time, lastValue: null, afterMs: afterMs, notBefore: Number.MIN_SAFE_INTEGER, firing: false }),
          onReading(s, r, out) {
            const time = out.time;
            if (s.firing) {
              s.firing = false;
              const vars = { value: r.value, device: r.device, metric: r.metric, lastSeen: isoTime(s.lastTs), silentFor: `${Math.round((time - s.lastTs) / 1000)}s` };
              out.clear(time, r.value, [{ ts: r.ts, device: r.device, metric: r.metric, value: r.value }], vars);
            }
            if (time >= s.lastTs) {
              s.lastTs = time;
              s.lastValue = r.value;
            }
            s.afterMs = silence(r.device, r.metric);
          },
          onWake(s, out) {
            const now = out.time;
            const due = deadline(s);
            // strictly longer than `after`: a reading exactly at the deadline is in time
            if (s.firing || now <= due) return;
            s.firing = true;
            const vars = { lastSeen: isoTime(s.lastTs), after: `${s.afterMs / 1000}s`, silentFor: `${Math.round((due - s.lastTs) / 1000)}s` };
            out.raise(due, undefined, [{ lastSeen: s.lastTs, lastValue: s.lastValue, expectedWithinMs: s.afterMs }], vars);
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
