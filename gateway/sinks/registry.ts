/**
 * Sink kinds: a kind name → its config schema and factory. A new sink is a
 * folder plus one line here (and one member of the SinkConfig union).
 * The composition root calls createSinks(config.sinks, context) and hands the
 * result to a Forwarder.
 */
import type { Logger } from 'pino';
import type { Clock, Sink } from '../core/contracts.js';
import { WeirError } from '../core/errors.js';
import { deliverySettings, type DeliverySettings } from '../forward/config.js';
import { InfluxdbSink } from './influxdb/influxdb-sink.js';
import { MqttBridgeSink } from './mqtt-bridge/mqtt-bridge-sink.js';
import { createKafkaSink } from './kafka/index.js';
import type { SinkConfig } from './config.js';

/** What every sink factory may use besides its own config. */
export interface SinkContext {
  readonly gatewayId: string;
  /** Relative file paths in a sink config (TLS files) resolve against this. */
  readonly baseDir: string;
  readonly clock: Clock;
  /** The sink gets a child of this with `{ component: 'sink', sink: name }`. */
  readonly log: Logger;
}

export { SinkConfig, SinksConfig } from './config.js';

type Factory<K extends SinkConfig['kind']> = (config: Extract<SinkConfig, { kind: K }>, context: SinkContext) => Sink;

const SINK_FACTORIES: { readonly [K in SinkConfig['kind']]: Factory<K> } = {
  influxdb: (config, ctx) => new InfluxdbSink(config, ctx),
  mqtt: (config, ctx) => new MqttBridgeSink(config, ctx),
  kafka: (config, ctx) => createKafkaSink(config, ctx),
};

export interface ConfiguredSink {
  readonly sink: Sink;
  readonly settings: DeliverySettings;
}

/** One sink from its validated config. Throws WeirError at boot on a bad template or unreadable TLS file. */
export function createSink(config: SinkConfig, context: SinkContext): ConfiguredSink {
  const log = context.log.child({ component: 'sink', sink: config.name });
  const factory = SINK_FACTORIES[config.kind] as Factory<typeof config.kind>;
  // every sink kind carries a `delivery:` section; one that does not yet gets the defaults
  const delivery = 'delivery' in config ? config.delivery : {};
  return { sink: factory(config, { ...context, log }), settings: deliverySettings(delivery) };
}

/** Every configured sink; names must be unique (they name cursors and dead-letter files). */
export function createSinks(configs: readonly SinkConfig[], context: SinkContext): ConfiguredSink[] {
  const seen = new Set<string>();
  for (const c of configs) {
    if (seen.has(c.name)) throw new WeirError('CONFIG_INVALID', `sinks: the name ${JSON.stringify(c.name)} is used twice; sink names must be unique`);
    seen.add(c.name);
  }
  const created: ConfiguredSink[] = [];
  try {
    for (const c of configs) created.push(createSink(c, context));
  } catch (e) {
    // a later sink failed at boot: close the ones already connecting
    for (const { sink } of created) void sink.close().catch(() => undefined);
    throw e;
  }
  return created;
}
