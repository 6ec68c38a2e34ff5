/**
 * A device profile describes one device type once: where its data arrives,
 * how to decode it, and what its metrics mean. The gateway decodes and validates
 * with it; firmware-sim simulates the same file.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../../gateway/core/units.js';
import { SerialTransport } from '../serial/schema.js';
import { GpioTransport } from '../gpio/schema.js';

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

export const CsvHeaderDecoderOptions = Type.Object(
  {
    kind: Type.Literal('csv-header'),
    separator: Type.Optional(Type.String({ minLength: 1, maxLength: 1, description: 'Default: comma.' })),
  },
  { additionalProperties: false, description: 'Two lines per payload, header then values (`temp,hum\\n21.5,40`); serial ports with `headerLine` supply the header.' },
);

export const NmeaDecoderOptions = Type.Object(
  {
    kind: Type.Literal('nmea'),
    sentences: Type.Optional(
      Type.Array(Type.Union([Type.Literal('RMC'), Type.Literal('GGA'), Type.Literal('GLL'), Type.Literal('VTG'), Type.Literal('GSA'), Type.Literal('GSV')]), {
        minItems: 1,
        description: 'Sentence types to take readings from; default all of these. Others are accepted and ignored.',
      }),
    ),
    requireChecksum: Type.Optional(Type.Boolean({ description: 'Reject sentences without `*hh` (default true); a wrong checksum is always rejected.' })),
  },
  { additionalProperties: false, description: 'NMEA 0183 sentences from a GPS: position, speed, course, altitude, satellites, fix quality.' },
);

/** `int16le temperature / 100`, `uint8 -`, `skip 2`, `float32be flow * 60 + 1.5`. The scale is never zero. */
export const BINARY_FIELD_PATTERN = '^(skip [1-9][0-9]*|(u?int8|u?int(16|32)(le|be)|float(32|64)(le|be)|bool) +(-|[A-Za-z_][A-Za-z0-9_.]*)( *[*/] *([1-9][0-9]*([.][0-9]+)?|0[.][0-9]*[1-9][0-9]*))?( *[+-] *[0-9]+([.][0-9]+)?)?)$';

export const BinaryDecoderOptions = Type.Object(
  {
    kind: Type.Literal('binary'),
    layout: Type.Array(Type.String({ pattern: BINARY_FIELD_PATTERN }), {
      minItems: 1,
      description: 'Fields in order: `<type> <metric> [* or / n] [+ or - n]`; types u/int8, u/int16le/be, u/int32le/be, float32/64le/be, bool; `-` as the name or `skip N` passes bytes over.',
    }),
    exactLength: Type.Optional(Type.Boolean({ description: 'Reject frames longer than the layout (default true; shorter ones are always rejected).' })),
  },
  { additionalProperties: false, description: 'A fixed binary record, as small microcontrollers send it.' },
);

export const DecoderOptions = Type.Union([
  JsonDecoderOptions,
  ValueDecoderOptions,
  CsvDecoderOptions,
  KeyValueDecoderOptions,
  CsvHeaderDecoderOptions,
  NmeaDecoderOptions,
  BinaryDecoderOptions,
]);
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
    topic: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'MQTT topic pattern with named segments: `sensors/{device}/{metric}`. `{device}` is required unless `device` is set. Required unless `transport` is set (serial and GPIO devices are bound by port or pin, not topic).',
      }),
    ),
    device: Type.Optional(Type.String({ description: 'Fixed device id, for topics that do not name one.' })),
    decoder: DecoderOptions,
    timestamp: Type.Optional(TimestampOptions),
    metrics: Type.Optional(Type.Record(Type.String(), MetricSpec, { description: 'Units and valid ranges per metric.' })),
    only: Type.Optional(Type.Boolean({ description: 'Keep only the metrics listed under `metrics`.', default: false })),
    cadence: Type.Optional(Duration('Expected reporting interval; absence rules may use it.')),
    tags: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Tags added to every reading of this profile.' })),
    transport: Type.Optional(
      Type.Union([SerialTransport, GpioTransport], { description: 'For devices on a serial port or a GPIO line: how they talk. MQTT devices need none.' }),
    ),
  },
  { additionalProperties: false },
);
export type DeviceProfile = Static<typeof DeviceProfile>;
