/**
 * Schema pieces every rule kind shares. Each kind's file under operators/
 * spreads COMMON_RULE_PROPS into its own object; schema.ts unions them.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../gateway/core/units.js';

export const Duration = (description: string, def?: string) =>
  Type.String({ pattern: DURATION_PATTERN, description, ...(def === undefined ? {} : { default: def }) });

/** A condition in CEL; see rules/README.md for the variables each kind provides. */
export const Expression = (description: string) => Type.String({ minLength: 1, maxLength: 2000, description });

export const MetricSelector = Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
  description: 'Metric name(s) the rule reads; `*` means every metric.',
});

export const KEY_PATTERN = '^(device|device\\+metric|global|tag:[A-Za-z0-9_.-]+)$';

export const Severity = Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')], { default: 'warning' });

export const WebhookActionSpec = Type.Object(
  {
    kind: Type.Literal('webhook'),
    url: Type.String({ pattern: '^https?://', description: 'POSTed the alert record as JSON.' }),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    on: Type.Optional(Type.Array(Type.Union([Type.Literal('raise'), Type.Literal('clear')]), { minItems: 1 })),
    timeout: Duration('Per attempt.', '5s'),
    attempts: Type.Integer({ minimum: 1, maximum: 20, default: 5, description: 'Total attempts, the first included.' }),
    backoff: Duration('First retry delay; doubles per attempt with jitter.', '500ms'),
    maxBackoff: Duration('Cap on the retry delay.', '30s'),
  },
  { additionalProperties: false },
);

export const MqttActionSpec = Type.Object(
  {
    kind: Type.Literal('mqtt'),
    topic: Type.Optional(Type.String({ minLength: 1, description: 'Event topic template; default `weir/alerts/{rule}/{device}`.' })),
    stateTopic: Type.Optional(Type.String({ minLength: 1, description: 'Retained current-state topic; default the event topic plus `/state`.' })),
    qos: Type.Union([Type.Literal(0), Type.Literal(1)], { default: 1 }),
    on: Type.Optional(Type.Array(Type.Union([Type.Literal('raise'), Type.Literal('clear')]), { minItems: 1 })),
  },
  { additionalProperties: false },
);

export const ActuatorActionSpec = Type.Object(
  {
    kind: Type.Literal('actuator'),
    name: Type.String({ minLength: 1, description: 'A named actuator the gateway provides (e.g. a GPIO relay).' }),
    onRaise: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean()], { description: 'Value written on raise.' })),
    onClear: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean()], { description: 'Value written on clear.' })),
  },
  { additionalProperties: false },
);

export const ActionSpec = Type.Union([MqttActionSpec, WebhookActionSpec, ActuatorActionSpec]);
export type ActionSpec = Static<typeof ActionSpec>;
export type WebhookActionSpec = Static<typeof WebhookActionSpec>;
export type MqttActionSpec = Static<typeof MqttActionSpec>;
export type ActuatorActionSpec = Static<typeof ActuatorActionSpec>;

export const COMMON_RULE_PROPS = {
  id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$', description: 'Unique across all rule files; used in alert topics.' }),
  description: Type.Optional(Type.String()),
  enabled: Type.Boolean({ default: true }),
  match: Type.Optional(
    Type.Object(
      {
        devices: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Device id globs (`*` matches any run of characters).' })),
        tags: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Tags a reading must carry, with these exact values.' })),
      },
      { additionalProperties: false, description: 'Cheap pre-filters, checked before any expression.' },
    ),
  ),
  per: Type.Optional(
    Type.String({
      pattern: KEY_PATTERN,
      description: 'State key: `device` (default), `device+metric`, `tag:<name>` or `global`.',
    }),
  ),
  time: Type.Union([Type.Literal('event'), Type.Literal('processing')], {
    default: 'event',
    description: '`event` uses the reading `ts`; `processing` uses the gateway clock at arrival.',
  }),
  lateness: Duration('How long after a window ends late readings are still accepted.', '1s'),
  severity: Severity,
  message: Type.Optional(Type.String({ description: 'Template: `{device}`, `{value}`, `{value:1}` (1 decimal), `{tags.zone}`, ...' })),
  clearMessage: Type.Optional(Type.String({ description: 'Template for the clear; default `resolved: ` plus the message.' })),
  labels: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Added to the tags of every alert.' })),
  cooldown: Type.Optional(Duration('A raise this soon after the previous raise of the same key is suppressed.')),
  flap: Type.Optional(
    Type.Object(
      {
        transitions: Type.Integer({ minimum: 2, description: 'This many raise/clear transitions...' }),
        within: Duration('...within this long mark the key as flapping; its transitions are held back.'),
      },
      { additionalProperties: false },
    ),
  ),
  state: Type.Optional(
    Type.Object(
      {
        maxKeys: Type.Optional(Type.Integer({ minimum: 1, description: 'Least recently seen keys are evicted beyond this.' })),
        idleTtl: Type.Optional(Duration('Keys without a reading this long are evicted.')),
      },
      { additionalProperties: false },
    ),
  ),
  actions: Type.Optional(Type.Array(ActionSpec, { description: 'What the gateway does with this rule\'s alerts besides forwarding them.' })),
};
