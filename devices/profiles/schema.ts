/**
 * A device profile describes one device type once: where its data arrives,
 * how to decode it, and what its metrics mean. The gateway decodes and validates
 * with it; firmware-sim simulates the same file.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../../gateway/core/units.js';

const Duration = (description: string) => Type.String({ pattern: DURATION_PATTERN, description });

export const JsonDecoderOptions = Type.Object(
  {
    kind: Type.Literal('json'),
    fields: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description:
          'metric name -> dotted path into the payload (`AM2301.Temperature`, `data.0.v`). Without it every numeric or boolean leaf becomes a metric named by its dotted path.',
      }),
    ),
    exclude: Type.Optional(Type.Array(Type.String(), { description: 'Leaf paths never taken as metrics (e.g. `Time`).' })),
  },
  { additionalProperties: false },
);

export const ValueDecoderOptions = Type.Object(
  {
    kind: Type.Literal('value'),
    metric: Type.Optional(Type.String({ description: 'Metric name when the topic pattern has no {metric} segment.' })),
  },
  { additionalProperties: false, description: 'A plain number, `true`/`false`, `on`/`off` or a short string.' },
);

export const CsvDecoderOptions = Type.Object(
  {
    kind: Type.Literal('csv'),
    columns: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Metric name of each column, in order; `-` skips one.' }),
    separator: Type.Optional(Type.String({ minLength: 1, maxLength: 1, description: 'Default: comma.' })),
  },
  { additionalProperties: false },
);

export const KeyValueDecoderOptions = Type.Object(
  {
    kind: Type.Literal('kv'),
    pairSeparator: Type.Optional(Type.String({ description: 'Between pairs; default: comma, semicolon, ampersand or whitespace.' })),
  },
  { additionalProperties: false, description: '`temp=21.5,hum=40` or `temp=21.5 hum=40`.' },
);

export const DecoderOptions = Type.Union([JsonDecoderOptions, ValueDecoderOptions, CsvDecoderOptions, KeyValueDecoderOptions]);
export type DecoderOptions = Static<typeof DecoderOptions>;

export const TimestampOptions = Type.Object(
  {
    field: Type.String({ description: 'Dotted path of the event time in the payload.' }),
    format: Type.Union([Type.Literal('epoch-ms'), Type.Literal('epoch-s'), Type.Literal('iso8601'), Type.Literal('auto')], {
      default: 'auto',
      description: '`auto` takes numbers below 1e11 as seconds, larger ones as milliseconds, strings as ISO 8601.',
    }),
  },
  { additionalProperties: false },
);

export const MetricSpec = Type.Object(
  {
    unit: Type.Optional(Type.String()),
    min: Type.Optional(Type.Number({ description: 'Readings below are flagged `out-of-range`, not dropped.' })),
    max: Type.Optional(Type.Number({ description: 'Readings above are flagged `out-of-range`, not dropped.' })),
  },
  { additionalProperties: false },
);

export const DeviceProfile = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9_.-]+$', description: 'Unique profile name.' }),
    description: Type.Optional(Type.String()),
    topic: Type.String({
      minLength: 1,
      description: 'MQTT topic pattern with named segments: `sensors/{device}/{metric}`. `{device}` is required unless `device` is set.',
    }),
    device: Type.Optional(Type.String({ description: 'Fixed device id, for topics that do not name one.' })),
    decoder: DecoderOptions,
    timestamp: Type.Optional(TimestampOptions),
    metrics: Type.Optional(Type.Record(Type.String(), MetricSpec, { description: 'Units and valid ranges per metric.' })),
    only: Type.Optional(Type.Boolean({ description: 'Keep only the metrics listed under `metrics`.', default: false })),
    cadence: Type.Optional(Duration('Expected reporting interval; absence rules may use it.')),
    tags: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Tags added to every reading of this profile.' })),
  },
  { additionalProperties: false },
);
export type DeviceProfile = Static<typeof DeviceProfile>;
