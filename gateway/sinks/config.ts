/**
 * The sink config union, apart from the sink implementations: weir.yaml's
 * schema needs these, and loading a config must not load Kafka or MQTT
 * clients a gateway without sinks never uses (they cost ~20 MB of RSS).
 */
import { Type, type Static } from '@sinclair/typebox';
import { InfluxdbSinkConfig } from './influxdb/config.js';
import { MqttBridgeSinkConfig } from './mqtt-bridge/config.js';
import { KafkaSinkConfigSchema } from './kafka/config.js';

export const SinkConfig = Type.Union(
  [
    InfluxdbSinkConfig,
    MqttBridgeSinkConfig,
    KafkaSinkConfigSchema,
  ],
  { description: 'An upstream weir forwards every record to, chosen by `kind`.' },
);
export type SinkConfig = Static<typeof SinkConfig>;

/** weir.yaml `sinks:`. Every sink drains the shared buffer at its own cursor. */
export const SinksConfig = Type.Array(SinkConfig, {
  default: [],
  description: 'Upstreams (kind: influxdb | mqtt | kafka), each with a unique `name` and its own `delivery` settings.',
});

