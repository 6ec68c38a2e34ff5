/**
 * The one definition of a rule file. It gives the TypeScript types, the
 * validation (unknown keys are errors), the defaults and RULES_JSON_SCHEMA
 * for editors (`# yaml-language-server: $schema=...`).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Duration } from './schema-common.js';
import { ThresholdRule } from './operators/threshold.js';
import { WindowRule } from './operators/window.js';
import { RateRule } from './operators/rate.js';
import { SequenceRule } from './operators/sequence.js';
import { AbsenceRule } from './operators/absence.js';
import { GroupRule } from './operators/group.js';

/** One line per rule kind. */
export const RuleDefinition = Type.Union([ThresholdRule, WindowRule, RateRule, SequenceRule, AbsenceRule, GroupRule]);
export type RuleDefinition = Static<typeof RuleDefinition>;

const Value = Type.Union([Type.Number(), Type.Boolean(), Type.String()]);

const TestReading = Type.Object(
  {
    at: Duration('When the reading arrives, from the start of the test.'),
    eventAt: Type.Optional(Duration('Its event time, when it differs from arrival (late readings).')),
    device: Type.String({ minLength: 1 }),
    metric: Type.String({ minLength: 1 }),
    value: Value,
    tags: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);

const ExpectedAlert = Type.Object(
  {
    at: Duration('Event time of the transition, from the start of the test.'),
    rule: Type.Optional(Type.String()),
    key: Type.Optional(Type.String()),
    device: Type.Optional(Type.String()),
    state: Type.Union([Type.Literal('raise'), Type.Literal('clear')]),
    severity: Type.Optional(Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')])),
    value: Type.Optional(Value),
    message: Type.Optional(Type.String({ description: 'Exact message.' })),
  },
  { additionalProperties: false },
);

const ExpectedReading = Type.Object(
  {
    at: Duration('Event time of the derived reading, from the start of the test.'),
    device: Type.Optional(Type.String()),
    metric: Type.String(),
    value: Type.Number(),
  },
  { additionalProperties: false },
);

export const RuleTestCase = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    start: Type.String({ default: '2024-01-01T00:00:00Z', description: 'Wall-clock time of `at: 0s` (ISO 8601).' }),
    rules: Type.Optional(Type.Array(Type.String(), { description: 'Only these rules of the file; default all.' })),
    readings: Type.Array(TestReading),
    restart: Type.Optional(
      Type.Object(
        {
          at: Duration('Stop the engine and take a snapshot at this time.'),
          downFor: Duration('Start a new engine from the snapshot this much later; readings meanwhile are lost.', '0s'),
        },
        { additionalProperties: false },
      ),
    ),
    until: Type.Optional(Duration('Keep the clock running to this time after the last reading.')),
    expect: Type.Array(ExpectedAlert, { description: 'Exactly these alert transitions, in this order.' }),
    expectReadings: Type.Optional(Type.Array(ExpectedReading, { description: 'When given, exactly these derived readings.' })),
  },
  { additionalProperties: false },
);
export type RuleTestCase = Static<typeof RuleTestCase>;

export const RuleFile = Type.Object(
  {
    rules: Type.Array(RuleDefinition),
    tests: Type.Optional(Type.Array(RuleTestCase)),
  },
  { $id: 'https://weir.dev/schemas/rules.v1.json', title: 'weir rule file', additionalProperties: false },
);
export type RuleFile = Static<typeof RuleFile>;

/** JSON Schema (draft 2020-12 compatible) for editors and docs. */
export const RULES_JSON_SCHEMA: Record<string, unknown> = JSON.parse(JSON.stringify(RuleFile)) as Record<string, unknown>;
