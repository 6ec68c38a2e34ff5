/**
 * group: combines devices of one key (a zone, a site): raise when at least
 * `atLeast` distinct devices met `when` with their latest reading, each within
 * the last `within`; clear when fewer do. A device's newer reading that fails
 * `when` takes it out at once; otherwise it ages out after `within`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { COMMON_RULE_PROPS, Duration, Expression, MetricSelector } from '../schema-common.js';
import { READING_VARIABLES, testReading } from '../expr.js';
import type { OperatorOutput, ReadingValue, RuleKindDefinition, RuleOperator } from '../types.js';

export const GroupRule = Type.Object(
  {
    kind: Type.Literal('group'),
    ...COMMON_RULE_PROPS,
    metric: MetricSelector,
    when: Expression('What counts a device in, e.g. `value > 30`.'),
    atLeast: Type.Integer({ minimum: 1, description: 'Raise when this many distinct devices are in.' }),
    within: Duration('A device counts for this long after its reading.'),
  },
  { additionalProperties: false, description: 'Raise when several devices of a group agree.' },
);
export type GroupRule = Static<typeof GroupRule>;

interface Member {
  readonly ts: number;
  readonly value: ReadingValue;
}

interface GroupState {
  /** Devices whose latest reading met `when`. */
  members: Record<string, Member>;
  firing: boolean;
}

export const groupKind: RuleKindDefinition<GroupRule> = {
  schema: GroupRule,
  compile(def, c) {
    if (!c.perGiven || (c.key.by !== 'tag' && c.key.by !== 'global')) {
      c.problem(c.perGiven ? ['per'] : [], 'a group rule combines devices: set `per: tag:<name>` (e.g. tag:zone) or `per: global`');
      return undefined;
    }
    const when = c.condition(['when'], def.when, READING_VARIABLES);
    if (!when) return undefined;
    const withinMs = c.duration(def.within);
    const atLeast = def.atLeast;
    return {
      knownPlaceholder: (p) => p.length === 1 && ['count', 'atLeast', 'devices'].includes(p[0]!),
      defaultMessage: '{rule}: {count} devices of {key} at once ({devices})',
      create(): RuleOperator<GroupState> {
        const judge = (s: GroupState, at: number, out: OperatorOutput): void => {
          let count = 0;
          for (const d in s.members) {
            if (s.members[d]!.ts < at - withinMs) delete s.members[d];
            else count++;
          }
          if ((count >= atLeast) === s.firing) return;
          s.firing = !s.firing;
          const devices = Object.keys(s.members).sort();
          const evidence = devices.map((d) => ({ device: d, ...s.members[d]! }));
          const vars = { count, atLeast, devices, value: count };
          if (s.firing) out.raise(at, count, evidence, vars);
          else out.clear(at, count, evidence, vars);
        };
        return {
          init: () => ({ members: {}, firing: false }),
          onReading(s, r, out) {
            const time = out.time;
            const verdict = testReading(when, r, out);
            if (verdict === undefined) return;
            // most readings are out and most groups empty: skip the lookup by a fresh device string
            if (!verdict && isEmpty(s.members)) return;
            const member = s.members[r.device];
            if (member === undefined) {
              if (!verdict) return; // was out, stays out: the common case costs no write
            } else if (time < member.ts) return out.late(); // older than what made it a member
            if (verdict) s.members[r.device] = { ts: time, value: r.value };
            else delete s.members[r.device];
            judge(s, time, out);
          },
          onWake(s, out) {
            const now = out.time;
            judge(s, now, out);
          },
          nextWake(s, out) {
            let oldest = Infinity;
            for (const d in s.members) oldest = Math.min(oldest, s.members[d]!.ts);
            // a member counts through ts + within inclusive and is gone one millisecond later
            if (oldest !== Infinity) out.wakeAt(oldest + withinMs + 1);
          },
        };
      },
    };
  },
};

function isEmpty(members: Record<string, Member>): boolean {
  for (const _ in members) return false;
  return true;
}
