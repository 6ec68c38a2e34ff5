/**
 * The one definition of weir.yaml. It yields the TypeScript type, validation,
 * defaults, the JSON Schema printed by `weir schema`, and docs/config.md.
 * Every object rejects unknown keys.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { DURATION_PATTERN, SIZE_PATTERN } from '../core/units.js';
import { DeviceProfile } from '../../devices/profiles/schema.js';
import { BufferConfig } from '../buffer/config.js';
import { SinksConfig } from '../sinks/config.js';
import { RulesConfig } from '../compose/rules-config.js';
import { SerialPortConfig } from '../../devices/serial/schema.js';
import { GpioConfig } from '../../devices/gpio/schema.js';

const Duration = (def: string, description: string) => Type.String({ pattern: DURATION_PATTERN, default: def, description });
const Size = (def: string, description: string) => Type.String({ pattern: SIZE_PATTERN, default: def, description });
const Port = (def: number, description: string) => Type.Integer({ minimum: 0, maximum: 65535, default: def, description });
/** An object whose every property has a default, so the whole section may be omitted. */
const Section = <T extends Parameters<typeof Type.Object>[0]>(props: T, description: string) =>
  Type.Object(props, { additionalProperties: false, default: {}, description });

const TcpListener = Section(
  {
    enabled: Type.Boolean({ default: true }),
    host: Type.String({ default: '0.0.0.0', description: 'Address to bind.' }),
    port: Port(1883, 'MQTT over TCP.'),
  },
  'Plain MQTT over TCP.',
);

const WsListener = Section(
  {
    enabled: Type.Boolean({ default: false }),
    host: Type.String({ default: '0.0.0.0' }),
    port: Port(9001, 'MQTT over WebSocket.'),
    path: Type.String({ default: '/mqtt', description: 'HTTP path of the WebSocket endpoint.' }),
  },
  'MQTT over WebSocket (browsers, Node-RED dashboards).',
);

const TlsListener = Section(
  {
    enabled: Type.Boolean({ default: false }),
    host: Type.String({ default: '0.0.0.0' }),
    port: Port(8883, 'MQTT over TLS.'),
    cert: Type.Optional(Type.String({ description: 'PEM certificate chain file.' })),
    key: Type.Optional(Type.String({ description: 'PEM private key file.' })),
    ca: Type.Optional(Type.String({ description: 'PEM CA bundle; with `requireClientCert` verifies client certificates.' })),
    requireClientCert: Type.Boolean({ default: false }),
  },
  'MQTT over TLS; `cert` and `key` are required when enabled.',
);

const AclEntry = Type.Object(
  {
    user: Type.Optional(Type.String({ description: 'Applies to this user only; omit for every client. `$anonymous` means unauthenticated clients.' })),
    topic: Type.String({ minLength: 1, description: 'Topic filter; `%u` is the username, `%c` the client id.' }),
    access: Type.Union([Type.Literal('read'), Type.Literal('write'), Type.Literal('readwrite'), Type.Literal('deny')], {
      description: 'read = subscribe, write = publish. `deny` overrides any grant.',
    }),
  },
  { additionalProperties: false },
);

const Auth = Section(
  {
    anonymous: Type.Union([Type.Literal('loopback'), Type.Literal('always'), Type.Literal('never')], {
      default: 'loopback',
      description: 'Who may connect without credentials. The default admits only clients on this machine (127.0.0.0/8, ::1).',
    }),
    usersFile: Type.Optional(Type.String({ description: 'Users file written by `weir users add` (salted scrypt hashes).' })),
    acl: Type.Optional(
      Type.Array(AclEntry, {
        description: 'Topic ACL. Without one every admitted client may publish and subscribe anywhere except reserved topics.',
      }),
    ),
  },
  'Authentication and topic access control.',
);

const Limits = Section(
  {
    maxConnections: Type.Integer({ minimum: 1, default: 1000, description: 'Connections beyond this are closed at once.' }),
    maxPacketSize: Size('256KiB', 'A larger packet closes its connection before it is buffered.'),
    maxInflight: Type.Integer({ minimum: 1, default: 100, description: 'Inbound QoS 2 messages a client may hold awaiting PUBREL.' }),
    maxQueued: Type.Integer({ minimum: 1, default: 1000, description: 'Messages queued for one offline persistent-session client; the oldest is dropped past it.' }),
    maxClientIdLength: Type.Integer({ minimum: 23, maximum: 65535, default: 128, description: 'MQTT 3.1.1 lets servers accept ids longer than 23 bytes [MQTT-3.1.3-5].' }),
    keepaliveLimit: Type.Integer({ minimum: 0, default: 0, description: 'Largest keepalive in seconds a client may ask for; 0 = any.' }),
    connectTimeout: Duration('30s', 'Time a new connection has to send CONNECT.'),
  },
  'Limits that protect a small board; every hit is counted in /metrics.',
);

const Broker = Section(
  {
    enabled: Type.Boolean({ default: true, description: 'Run the embedded aedes broker.' }),
    listeners: Section({ tcp: TcpListener, ws: WsListener, tls: TlsListener }, 'Where the broker listens.'),
    auth: Auth,
    limits: Limits,
    persistence: Section(
      { enabled: Type.Boolean({ default: true, description: 'Keep retained messages and persistent sessions on disk under dataDir/broker.' }) },
      'Broker state that survives a restart.',
    ),
  },
  'The embedded MQTT broker.',
);

const ExternalBroker = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9_.-]+$', description: 'Names this connection in logs and metrics.' }),
    url: Type.String({ pattern: '^(mqtts?|wss?|tcp|tls)://', description: 'e.g. mqtt://127.0.0.1:1883' }),
    clientId: Type.Optional(Type.String()),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String({ description: 'Use ${ENV_VAR} rather than writing the secret here.' })),
    subscribe: Type.Optional(Type.Array(Type.String(), { minItems: 1, description: 'Topic filters to ingest from; default: the filters of all device profiles.' })),
    qos: Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], { default: 1 }),
    cleanSession: Type.Boolean({ default: false, description: 'false keeps the subscription while weir is down.' }),
    ca: Type.Optional(Type.String({ description: 'PEM CA file for mqtts://.' })),
  },
  { additionalProperties: false },
);

const Ingest = Section(
  {
    external: Type.Array(ExternalBroker, { default: [], description: 'External brokers weir ingests from as an MQTT client.' }),
    republish: Section(
      {
        enabled: Type.Boolean({ default: true }),
        topic: Type.String({ default: 'weir/readings/{device}', description: 'Topic template; `{device}` and `{metric}` are filled in.' }),
        qos: Type.Union([Type.Literal(0), Type.Literal(1)], { default: 0 }),
        retain: Type.Boolean({ default: false }),
      },
      'Normalized readings published back on the broker for local consumers.',
    ),
    deadLetter: Section(
      {
        enabled: Type.Boolean({ default: false }),
        topic: Type.String({ default: 'weir/dead-letter/{reason}', description: '`{reason}` is the error code in lower case.' }),
      },
      'Undecodable or unrouted payloads republished with the reason.',
    ),
    defaultProfiles: Type.Boolean({ default: true, description: 'Add the built-in profiles (weir/{device}/telemetry, sensors/{device}/{metric}, tele/{device}/SENSOR).' }),
  },
  'MQTT ingestion into normalized readings.',
);

const Http = Section(
  {
    enabled: Type.Boolean({ default: true }),
    host: Type.String({ default: '127.0.0.1' }),
    port: Port(8080, 'Health, metrics and the status API.'),
  },
  'HTTP: /healthz, /readyz, /metrics, /api/status.',
);

export const WeirConfig = Type.Object(
  {
    gateway: Section(
      {
        id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]+$', description: 'Gateway id in record ids and upstream keys; default: the host name.' })),
        dataDir: Type.String({ default: './data', description: 'Where durable state lives (the package sets /var/lib/weir).' }),
        shutdownTimeout: Duration('10s', 'Bound on a clean shutdown.'),
      },
      'This gateway.',
    ),
    log: Section(
      {
        level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace'].map((l) => Type.Literal(l)), { default: 'info' }),
        pretty: Type.Union([Type.Literal('auto'), Type.Boolean()], { default: 'auto', description: '`auto`: pretty on a terminal, JSON otherwise.' }),
      },
      'Logging.',
    ),
    broker: Broker,
    ingest: Ingest,
    profiles: Type.Array(DeviceProfile, { default: [], description: 'Device profiles, tried in order before the built-in ones.' }),
    profileFiles: Type.Array(Type.String(), { default: [], description: 'Profile YAML files or globs, relative to this file.' }),
    serial: Type.Array(SerialPortConfig, { default: [], description: 'Serial ports, each bound to a device profile and a device id.' }),
    gpio: GpioConfig,
    rules: RulesConfig,
    buffer: BufferConfig,
    sinks: SinksConfig,
    http: Http,
  },
  { additionalProperties: false, $id: 'https://weir.dev/schemas/weir-config.json', title: 'weir.yaml' },
);

export type WeirConfig = Static<typeof WeirConfig>;
export type AclEntry = Static<typeof AclEntry>;
export type ExternalBrokerConfig = Static<typeof ExternalBroker>;
export type SchemaOf<T extends TSchema> = Static<T>;
