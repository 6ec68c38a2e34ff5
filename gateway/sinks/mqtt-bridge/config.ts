/** weir.yaml `sinks: - kind: mqtt`: forward records to an upstream MQTT broker. */
import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../../core/units.js';
import { DeliveryConfig, SinkName } from '../../forward/config.js';

const Duration = (def: string, description: string) => Type.String({ pattern: DURATION_PATTERN, default: def, description });

export const MqttBridgeSinkConfig = Type.Object(
  {
    kind: Type.Literal('mqtt'),
    name: SinkName,
    url: Type.String({ pattern: '^(mqtts?|wss?|tcp|tls)://', description: 'Upstream broker, e.g. mqtts://broker.example:8883.' }),
    clientId: Type.Optional(Type.String({ minLength: 1, description: 'Fixed client id of the persistent session; default weir-{gateway}-{name}.' })),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String({ description: 'Use ${ENV_VAR} rather than writing the secret here.' })),
    topic: Type.String({
      default: 'weir/{gateway}/{kind}/{device}',
      description:
        'Topic template: {gateway}, {kind} (reading|alert), {device}, {metric}, {rule}, {severity}. A value that does not apply, or is empty, becomes `_`; `/`, `+` and `#` inside a value become `_`.',
    }),
    alertTopic: Type.Optional(Type.String({ description: 'Topic template for alerts; default: `topic`.' })),
    qos: Type.Union([Type.Literal(1), Type.Literal(2)], { default: 1, description: 'A batch is delivered once every message of it is acknowledged (PUBACK/PUBCOMP).' }),
    ca: Type.Optional(Type.String({ description: 'PEM CA file to verify the broker (mqtts://, wss://).' })),
    cert: Type.Optional(Type.String({ description: 'PEM client certificate file, for brokers that require one.' })),
    key: Type.Optional(Type.String({ description: 'PEM private key of `cert`.' })),
    rejectUnauthorized: Type.Boolean({ default: true, description: 'Verify the broker certificate. Turn off only for a test broker.' }),
    keepalive: Duration('30s', 'MQTT keepalive.'),
    connectTimeout: Duration('10s', 'Time to wait for CONNACK.'),
    reconnectPeriod: Duration('2s', 'Pause between reconnect attempts.'),
    ackTimeout: Duration('10s', 'A batch not fully acknowledged within this is retried.'),
    delivery: DeliveryConfig,
  },
  { additionalProperties: false, description: 'An upstream MQTT broker, with a persistent session at QoS 1 or 2.' },
);
export type MqttBridgeSinkConfig = Static<typeof MqttBridgeSinkConfig>;
