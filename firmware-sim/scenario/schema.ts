/**
 * A scenario file: which devices (a fleet of device profiles with signals),
 * how they connect, and what happens to them when (the timeline). The device
 * profiles themselves stay as the gateway reads them.
 */
import { Type, type Static } from '@sinclair/typebox';
import { SignalSpec } from '../signals/schema.js';
import { DURATION_PATTERN } from '../../gateway/core/units.js';
import { Duration, JITTER_PATTERN } from './common.js';
import { SimEvent } from './events.js';

const O = { additionalProperties: false } as const;

const Message = (payload: string) =>
  Type.Object(
    {
      topic: Type.String({ minLength: 1, description: '`{device}` is filled in.' }),
      payload: Type.String({ default: payload }),
      retain: Type.Boolean({ default: true }),
      qos: Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], { default: 1 }),
    },
    O,
  );

export const MqttSettings = Type.Object(
  {
    url: Type.Optional(Type.String({ pattern: '^(mqtts?|wss?|tcp|tls)://', description: 'Broker; `--mqtt` overrides it.' })),
    qos: Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], { default: 1 }),
    clean: Type.Boolean({ default: true, description: 'false: persistent sessions (the broker keeps QoS 1/2 state across reconnects).' }),
    keepalive: Type.String({ pattern: DURATION_PATTERN, default: '30s', description: 'MQTT keepalive.' }),
    clientId: Type.String({ default: 'sim-{device}', description: '`{device}` and `{link}` are filled in.' }),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    tls: Type.Optional(
      Type.Object(
        {
          ca: Type.Optional(Type.String({ description: 'PEM file, relative to the scenario.' })),
          cert: Type.Optional(Type.String()),
          key: Type.Optional(Type.String()),
          rejectUnauthorized: Type.Boolean({ default: true }),
        },
        O,
      ),
    ),
    birth: Type.Optional(Message('online')),
    will: Type.Optional(Message('offline')),
    reconnect: Type.Object({ initial: Duration('First wait.'), max: Duration('Cap; the wait doubles with jitter up to it.') }, { ...O, default: { initial: '250ms', max: '30s' } }),
    connections: Type.Optional(Type.Integer({ minimum: 1, description: 'Share this many connections among all devices (load mode); default one per device.' })),
    offline: Type.Union([Type.Literal('queue'), Type.Literal('drop')], { default: 'queue', description: 'While disconnected: queue messages in MQTT.js or drop them as many firmwares do.' }),
  },
  { ...O, default: {} },
);
export type MqttSettings = Static<typeof MqttSettings>;

export const Variation = Type.Object(
  {
    phase: Type.Union([Type.Literal('none'), Type.Literal('spread'), Type.Literal('random')], { default: 'spread', description: 'Shift of periodic signals across the devices.' }),
    offset: Type.Number({ minimum: 0, default: 0, description: 'Each device adds a fixed value drawn from +-offset (calibration differences).' }),
    jitter: Type.String({ pattern: JITTER_PATTERN, default: '5%', description: 'Random change of each interval: `10%` of the cadence or `200ms`.' }),
    start: Type.Union([Type.Literal('random'), Type.Literal('spread'), Type.Literal('together')], { default: 'random', description: 'When each device first sends within its first interval.' }),
  },
  { ...O, default: {} },
);

export const FleetEntry = Type.Object(
  {
    name: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]+$', description: 'Group name; timeline selectors can use it.' })),
    profile: Type.String({ minLength: 1, description: 'A device profile: built-in, from devices/profiles/library, or from `profileFiles`.' }),
    count: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
    id: Type.Optional(Type.String({ minLength: 1, description: 'Device id template: `gh-{i:02}`, `{name}-{i}`; default `{name}-{i:02}`.' })),
    first: Type.Integer({ minimum: 0, default: 1, description: 'The first {i}.' }),
    cadence: Type.Optional(Duration('Interval between messages; default the profile\'s cadence, else 10s.')),
    transport: Type.Optional(Type.Union([Type.Literal('mqtt'), Type.Literal('serial'), Type.Literal('gpio')], { description: 'Default: the profile\'s transport, else mqtt.' })),
    metrics: Type.Optional(Type.Record(Type.String({ minLength: 1 }), SignalSpec, { description: 'Signal per metric; metrics the profile needs and this omits get a random walk within their range.' })),
    decimals: Type.Integer({ minimum: 0, maximum: 12, default: 3, description: 'Values are rounded to this many decimals before sending (and recording).' }),
    timestamps: Type.Boolean({ default: true, description: 'Write the event time when the profile has a timestamp field.' }),
    variation: Variation,
    serial: Type.Optional(Type.Object({ path: Type.String({ minLength: 1, description: 'Write to this port (`{device}` filled in) instead of a new pty pair.' }) }, O)),
    gpio: Type.Optional(Type.Object({ pin: Type.Integer({ minimum: 0, maximum: 511, description: 'BCM line of the first device; the next ones count up.' }) }, O)),
  },
  O,
);
export type FleetEntry = Static<typeof FleetEntry>;

export const Scenario = Type.Object(
  {
    name: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    seed: Type.Union([Type.Integer(), Type.String({ minLength: 1 })], { default: 1, description: '`--seed` overrides it.' }),
    duration: Type.Optional(Duration('Run time; default until interrupted. `--duration` overrides it.')),
    start: Type.Optional(Type.String({ minLength: 1, description: 'Where device clocks start (ISO 8601); default now. Fix it for byte-identical runs.' })),
    profileFiles: Type.Array(Type.String(), { default: [], description: 'Device profile files, relative to this file (the gateway must load the same ones).' }),
    mqtt: MqttSettings,
    serial: Type.Object({ dir: Type.Optional(Type.String({ description: 'Where pty links are made; default a new temp directory.' })) }, { ...O, default: {} }),
    fleet: Type.Array(FleetEntry, { minItems: 1 }),
    timeline: Type.Array(SimEvent, { default: [] }),
  },
  { ...O, $id: 'https://weir.dev/schemas/weir-sim-scenario.json', title: 'weir sim scenario' },
);
export type Scenario = Static<typeof Scenario>;
