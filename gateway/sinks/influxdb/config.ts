/** weir.yaml `sinks: - kind: influxdb`: the InfluxDB v2 write API. */
import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../../core/units.js';
import { DeliveryConfig, SinkName } from '../../forward/config.js';

export const InfluxdbSinkConfig = Type.Object(
  {
    kind: Type.Literal('influxdb'),
    name: SinkName,
    url: Type.String({ pattern: '^https?://', description: 'Server base URL, e.g. http://influx:8086; weir posts to /api/v2/write.' }),
    org: Type.String({ minLength: 1 }),
    bucket: Type.String({ minLength: 1 }),
    token: Type.Optional(Type.String({ description: 'API token, sent as `Authorization: Token ...`; write ${INFLUX_TOKEN} rather than the secret.' })),
    measurement: Type.String({
      default: '{metric}',
      description: 'Measurement of a reading; `{metric}` and `{device}` are filled in. The default gives one measurement per metric.',
    }),
    field: Type.String({ default: 'value', description: 'Field that holds the value; `{metric}` allowed, e.g. measurement `weir` + field `{metric}`.' }),
    alertMeasurement: Type.String({ default: 'weir_alert', description: 'Measurement of alerts (rule, key, device, severity as tags).' }),
    tags: Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }), {
      default: {},
      description: 'Fixed tags on every point (site, line...); record tags and device override them.',
    }),
    gzip: Type.Boolean({ default: true, description: 'Compress request bodies (line protocol shrinks ~10x).' }),
    timeout: Type.String({ pattern: DURATION_PATTERN, default: '10s', description: 'Per-request timeout; a timeout is retried.' }),
    delivery: DeliveryConfig,
  },
  { additionalProperties: false, description: 'InfluxDB v2 (or anything speaking its write API, e.g. VictoriaMetrics).' },
);
export type InfluxdbSinkConfig = Static<typeof InfluxdbSinkConfig>;
