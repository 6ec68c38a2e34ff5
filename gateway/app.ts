/**
 * The composition root: the only place that knows every concrete part.
 * Start order is inside-out (pipeline, broker, external sources, HTTP) and
 * stop order the reverse, so nothing accepts data it could not hold.
 */
import { hostname } from 'node:os';
import { resolve, dirname } from 'node:path';
import type { Logger } from 'pino';
import type { LoadedConfig } from './config/load.js';
import { Metrics } from './metrics/metrics.js';
import { RecordIds } from './core/record-ids.js';
import { parseDuration } from './core/units.js';
import { IngestPipeline, type ReadingConsumer } from './ingest/pipeline.js';
import { readingRepublisher, deadLetterPublisher, templateFilter, type Publish } from './ingest/republish.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/broker.js';
import { createAccessControl } from './broker/access/create-access-control.js';
import { startHttpServer, type HttpServer } from './http/server.js';
import { ProfileRouter } from '../devices/profiles/router.js';
import { BUILTIN_PROFILES } from '../devices/profiles/builtin.js';
import { BrokerTapSource } from '../devices/mqtt/broker-tap-source.js';
import type { ExternalBrokerSource } from '../devices/mqtt/external-broker-source.js';
import { WEIR_VERSION } from './version.js';
import { SystemClock } from './core/clock.js';
import { startForwarding } from './compose/forwarding.js';
import { startRules } from './compose/rules.js';

export interface Gateway {
  readonly id: string;
  readonly broker: EmbeddedBroker | undefined;
  readonly http: HttpServer | undefined;
  readonly metrics: Metrics;
  /** Re-reads what can change at run time (users file; rules later). SIGHUP calls it. */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

export async function startGateway(loaded: LoadedConfig, log: Logger): Promise<Gateway> {
  const { config } = loaded;
  const baseDir = loaded.file ? dirname(resolve(loaded.file)) : process.cwd();
  const dataDir = resolve(baseDir, config.gateway.dataDir);
  const gatewayId = config.gateway.id ?? hostname().replace(/[^A-Za-z0-9_.-]/g, '-');
  const startedAt = Date.now();
  const metrics = new Metrics();
  const ids = RecordIds.open(gatewayId, dataDir);
  const stops: (() => Promise<void>)[] = [];
  const reloaders: (() => Promise<void>)[] = [];
  const shutdownMs = parseDuration(config.gateway.shutdownTimeout);
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((e: unknown) => log.error({ err: e }, 'A part failed to stop cleanly.'));
  };

  try {
    const clock = new SystemClock();
    const forwarding = await startForwarding({ config, dataDir, baseDir, gatewayId, clock, log, metrics });
    if (forwarding) stops.push(() => forwarding.stop(shutdownMs));
    const router = new ProfileRouter([...loaded.profiles, ...(config.ingest.defaultProfiles ? BUILTIN_PROFILES : [])]);
    // Readings go where the broker is: the embedded one, else the first external one.
    let publish: Publish | undefined;
    const consumers: ReadingConsumer[] = [];
    // First consumer: the durable buffer. The device's PUBACK waits on this append.
    if (forwarding) consumers.push((readings) => forwarding.append(readings));
    const republish = config.ingest.republish;
    const republishReadings = republish.enabled ? readingRepublisher((t, p, o) => publish?.(t, p, o), republish, metrics) : undefined;
    if (republishReadings) consumers.push(republishReadings);
    // GPIO first: rules may switch its outputs. Loaded only when pins are configured.
    const gpio = config.gpio.pins.length > 0
      ? await (await import('../devices/gpio/index.js')).createGpioSource(config.gpio, loaded.profiles, { clock, log: log.child({ component: 'gpio' }) })
      : undefined;
    const rules =
      config.rules.files.length > 0
        ? startRules(
            {
              config: config.rules,
              baseDir,
              clock,
              nextId: () => ids.next(),
              log: log.child({ component: 'rules' }),
              metrics,
              publish: () => publish,
              forward: forwarding ? (records) => forwarding.append(records) : undefined,
              republish: republishReadings,
              ...(gpio
                ? {
                    actuator: async (name: string, value: string | number | boolean) => {
                      const r = await gpio.setOutput(name, value);
                      if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
                    },
                  }
                : {}),
            },
            loaded.rules,
          )
        : undefined;
    if (rules) {
      consumers.push(rules.consume);
      reloaders.push(async () => void (await rules.reload()));
      stops.push(() => rules.stop());
    }
    const deadLetter = config.ingest.deadLetter;
    const pipeline = new IngestPipeline({
      router,
      ids,
      metrics,
      log: log.child({ component: 'ingest' }),
      consumers,
      ...(deadLetter.enabled ? { onBadFrame: deadLetterPublisher((t, p, o) => publish?.(t, p, o), deadLetter.topic, metrics) } : {}),
    });

    const serialSources = config.serial.length
      ? (await import('../devices/serial/index.js')).createSerialSources(config.serial, loaded.profiles, { clock, log: log.child({ component: 'serial' }) })
      : [];
    for (const source of serialSources) {
      await source.start(pipeline.ingest, pipeline.problem); // a missing port is retried, never fatal
      stops.push(() => source.stop());
    }
    if (gpio) {
      await gpio.start(pipeline.ingest, pipeline.problem); // no GPIO on this board: one clear warning, the rest runs
      stops.push(() => gpio.stop()); // outputs go to their safe state
    }

    let broker: EmbeddedBroker | undefined;
    if (config.broker.enabled) {
      const tap = new BrokerTapSource();
      await tap.start(pipeline.ingest, pipeline.problem);
      const brokerLog = log.child({ component: 'broker' });
      const access = await createAccessControl(config.broker.auth, {
        baseDir,
        // clients may not forge what the gateway itself publishes
        reservedPublish: [republish.topic, deadLetter.topic, 'weir/alerts/#'].map(templateFilter),
        onReload: (r) =>
          r.ok
            ? brokerLog.info({ users: r.users }, 'Reloaded the MQTT users file.')
            : brokerLog.warn({ problems: r.problems, keptUsers: r.keptUsers }, 'The MQTT users file is invalid; keeping the users loaded before.'),
      });
      reloaders.push(() => access.reload());
      broker = await startEmbeddedBroker({
        config: config.broker,
        dataDir,
        baseDir,
        access,
        metrics,
        log: brokerLog,
        onClientPublish: (packet, client) =>
          tap.onPublish(packet.topic, packet.payload as Buffer, { clientId: client.id, qos: packet.qos, retain: packet.retain }),
      });
      const b = broker;
      const publishFailed = (e: Error, topic: string) => log.error({ err: e, topic }, 'Publishing on the embedded broker failed.');
      publish = (topic, payload, options) => b.send(topic, payload, options.qos, options.retain, publishFailed);
      stops.push(() => b.close(), () => tap.stop());
    }

    const externals: ExternalBrokerSource[] = [];
    const externalUp = new Map<string, boolean>(config.ingest.external.map((e) => [e.name, false]));
    // MQTT.js is loaded only when an external broker is configured (it costs ~15 MB of RSS)
    const { ExternalBrokerSource: ExternalSource } = config.ingest.external.length
      ? await import('../devices/mqtt/external-broker-source.js')
      : { ExternalBrokerSource: undefined };
    for (const ext of config.ingest.external) {
      const source = new ExternalSource!(
        {
          name: ext.name,
          url: ext.url,
          clientId: ext.clientId ?? `weir-${gatewayId}-${ext.name}`,
          subscribe: ext.subscribe ?? router.filters(),
          qos: ext.qos,
          cleanSession: ext.cleanSession,
          ...(ext.username !== undefined ? { username: ext.username } : {}),
          ...(ext.password !== undefined ? { password: ext.password } : {}),
          ...(ext.ca !== undefined ? { ca: resolve(baseDir, ext.ca) } : {}),
        },
        (up) => {
          metrics.externalConnected.set({ broker: ext.name }, up ? 1 : 0);
          externalUp.set(ext.name, up);
        },
      );
      await source.start(pipeline.ingest, pipeline.problem);
      externals.push(source);
      stops.push(() => source.stop());
    }
    const firstExternal = externals[0];
    if (!publish && firstExternal) publish = (topic, payload, options) => firstExternal.publish(topic, payload, options);

    let http: HttpServer | undefined;
    if (config.http.enabled) {
      http = await startHttpServer(config.http.host, config.http.port, metrics, {
        ready: () => {
          const reasons = [...externalUp].filter(([, up]) => !up).map(([name]) => `external broker ${name} is not connected`);
          return { ready: reasons.length === 0, reasons };
        },
        actions: {
          '/api/rules/reload': async () => (rules ? rules.reload() : { ok: false, problems: ['no rules.files configured'] }),
        },
        status: () => ({
          gateway: { id: gatewayId, version: WEIR_VERSION, boot: ids.boot, startedAt: new Date(startedAt).toISOString(), uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) },
          broker: broker ? { listeners: broker.listeners, clients: broker.aedes.connectedClients } : null,
          devices: { tracked: metrics.devices.size, overflowed: metrics.devices.overflowed },
          forwarding: forwarding?.status() ?? null,
          rules: rules?.status() ?? null,
          serial: serialSources.map((source) => source.status()),
          gpio: gpio?.status() ?? null,
          profiles: router.filters(),
        }),
      });
      const h = http;
      stops.push(() => h.close());
      log.info({ host: h.host, port: h.port }, 'HTTP endpoints open.');
    }

    log.info({ gatewayId, dataDir, version: WEIR_VERSION }, 'weir is running.');
    return {
      id: gatewayId,
      broker,
      http,
      metrics,
      reload: async () => {
        for (const reload of reloaders) await reload();
      },
      stop: () => withTimeout(stopAll(), shutdownMs),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`shutdown took longer than ${ms} ms`)), ms);
    p.then(
      () => (clearTimeout(t), resolve()),
      (e: unknown) => (clearTimeout(t), reject(e)),
    );
  });
}
