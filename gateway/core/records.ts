/**
 * Record formats are a contract with every consumer upstream (Kafka topics,
 * InfluxDB, MQTT subscribers). Each record carries its schema version `v`;
 * docs/schemas/*.json are generated from these definitions and checked for drift.
 * A new version adds a schema beside the old one; readers keep accepting old ones.
 */
import { Type, type Static } from '@sinclair/typebox';

const Tags = Type.Record(Type.String(), Type.String(), { description: 'Free-form string labels (site, zone, ...).' });

export const ReadingRecordV1 = Type.Object(
  {
    v: Type.Literal(1, { description: 'Record schema version.' }),
    kind: Type.Literal('reading'),
    id: Type.String({ description: 'Unique, stable id: `{gatewayId}-{boot}-{seq}`; lets consumers deduplicate after replays.' }),
    device: Type.String({ minLength: 1 }),
    metric: Type.String({ minLength: 1 }),
    value: Type.Union([Type.Number(), Type.Boolean(), Type.String()]),
    unit: Type.Optional(Type.String()),
    ts: Type.Integer({ description: 'Event time, epoch milliseconds (from the payload, else receive time).' }),
    receivedAt: Type.Integer({ description: 'When the gateway received the bytes, epoch milliseconds.' }),
    source: Type.String({ description: 'Source kind and instance, e.g. `mqtt:embedded`.' }),
    tags: Tags,
    flags: Type.Optional(
      Type.Array(Type.Union([Type.Literal('out-of-range'), Type.Literal('replay')]), {
        description: 'Quality marks: `out-of-range` (outside the profile range), `replay` (re-sent after an outage).',
      }),
    ),
  },
  { $id: 'https://weir.dev/schemas/reading.v1.json', title: 'weir reading, version 1', additionalProperties: false },
);
export type ReadingRecord = Static<typeof ReadingRecordV1>;

export const AlertRecordV1 = Type.Object(
  {
    v: Type.Literal(1),
    kind: Type.Literal('alert'),
    id: Type.String(),
    rule: Type.String(),
    key: Type.String({ description: 'The rule key the alert is for (device, tag value, device+metric).' }),
    device: Type.Optional(Type.String()),
    state: Type.Union([Type.Literal('raise'), Type.Literal('clear')]),
    severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]),
    message: Type.String(),
    ts: Type.Integer({ description: 'Event time of the transition, epoch milliseconds.' }),
    value: Type.Optional(Type.Union([Type.Number(), Type.Boolean(), Type.String()])),
    evidence: Type.Array(Type.Unknown(), { description: 'Readings, window statistics or sequence steps that caused it.' }),
    tags: Tags,
  },
  { $id: 'https://weir.dev/schemas/alert.v1.json', title: 'weir alert, version 1', additionalProperties: false },
);
export type AlertRecord = Static<typeof AlertRecordV1>;

export const RECORD_SCHEMAS = { 'reading.v1': ReadingRecordV1, 'alert.v1': AlertRecordV1 } as const;
