/**
 * The `kind: kafka` sink's config: one TypeBox schema gives the type, the
 * validation, the defaults and the reference docs. acks=all and the idempotent
 * producer are not settings: weir's at-least-once promise depends on them.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../../core/units.js';
import { DeliveryConfig, SinkName } from '../../forward/config.js';

/** Kafka's legal topic characters, plus the placeholders a template may use. */
export const TOPIC_TEMPLATE_PATTERN = '^([a-zA-Z0-9._-]|\\{gateway\\}|\\{kind\\})+$';

const Duration = (def: string, description: string) => Type.String({ pattern: DURATION_PATTERN, default: def, description });

const TopicTemplate = (def: string, description: string) =>
  Type.String({ pattern: TOPIC_TEMPLATE_PATTERN, maxLength: 249, default: def, description });

/**
 * What the client supports on this Node version. zstd is missing on purpose:
 * @platformatic/kafka compresses it with node:zlib, which has zstd only from Node 22.15.
 */
export const KAFKA_COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4'] as const;
export type KafkaCompression = (typeof KAFKA_COMPRESSIONS)[number];

export const KafkaSinkConfigSchema = Type.Object(
  {
    kind: Type.Literal('kafka'),
    name: SinkName,
    brokers: Type.Array(Type.String({ pattern: '^\\S+:\\d{1,5}$', description: '`host:port`' }), {
      minItems: 1,
      description: 'Bootstrap brokers; the rest of the cluster is discovered from them.',
    }),
    clientId: Type.Optional(Type.String({ pattern: '^\\S+$', description: 'Kafka client id; defaults to `weir-{gateway id}`.' })),
    topics: Type.Object(
      {
        readings: TopicTemplate('weir.readings', 'Topic for readings. `{gateway}` is the gateway id, `{kind}` is `reading`.'),
        alerts: TopicTemplate('weir.alerts', 'Topic for alerts. `{gateway}` is the gateway id, `{kind}` is `alert`.'),
      },
      { additionalProperties: false, default: {}, description: 'Topic templates per record kind.' },
    ),
    compression: Type.Union(
      KAFKA_COMPRESSIONS.map((c) => Type.Literal(c)),
      { default: 'gzip', description: 'Record batch compression (zstd needs Node 22.15+ and is not offered yet).' },
    ),
    tls: Type.Optional(
      Type.Object(
        {
          ca: Type.Optional(Type.String({ description: 'PEM CA bundle file that signed the brokers\u2019 certificates (relative to the config file).' })),
          cert: Type.Optional(Type.String({ description: 'PEM client certificate file (mutual TLS).' })),
          key: Type.Optional(Type.String({ description: 'PEM private key file of `cert`.' })),
          rejectUnauthorized: Type.Boolean({ default: true, description: 'Verify the brokers\u2019 certificates. Turn off only for a test cluster.' }),
          servername: Type.Optional(Type.String({ description: 'Server name for SNI and certificate checks, if not the broker host.' })),
        },
        { additionalProperties: false, description: 'Connect over TLS. Present (even empty) means TLS is on.' },
      ),
    ),
    sasl: Type.Optional(
      Type.Object(
        {
          mechanism: Type.Union([Type.Literal('plain'), Type.Literal('scram-sha-256'), Type.Literal('scram-sha-512')]),
          username: Type.String({ minLength: 1 }),
          password: Type.String({ description: 'Use `${ENV_VAR}` rather than writing it in the file.' }),
        },
        { additionalProperties: false, description: 'SASL authentication; PLAIN sends the password in clear, so pair it with `tls`.' },
      ),
    ),
    connectTimeout: Duration('5s', 'Bound on opening one broker connection.'),
    requestTimeout: Duration('10s', 'Bound on one request to a broker, including the acks=all wait.'),
    deliveryTimeout: Duration('30s', 'Bound on one batch delivery, retries included; past it the batch is retried later.'),
    delivery: DeliveryConfig,
  },
  {
    additionalProperties: false,
    description: 'Apache Kafka: acks=all, idempotent producer, key = device id (per-device order), headers `weir-id`, `weir-gateway`, `weir-kind`, `weir-replay`.',
  },
);
export type KafkaSinkConfig = Static<typeof KafkaSinkConfigSchema>;
