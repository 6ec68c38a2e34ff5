/**
 * The embedded MQTT broker: aedes with weir's access control, limits,
 * durable persistence and listeners. Devices, Node-RED and Home Assistant
 * connect here; ingestion taps every authorized publish before it is acked.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Client, PublishPacket } from 'aedes';
import { WeirAedes } from './weir-aedes.js';
import { brokerHooks, type ClientPublishHandler } from './hooks.js';
import { openListeners, type OpenListener, type ListenerName } from './listeners.js';
import { openBrokerPersistence } from './persistence.js';
import type { AccessControl } from './access/access-control.js';
import type { Metrics } from '../metrics/metrics.js';
import type { WeirConfig } from '../config/schema.js';
import { parseDuration, parseSize } from '../core/units.js';
import { WeirError } from '../core/errors.js';

export interface EmbeddedBrokerOptions {
  readonly config: WeirConfig['broker'];
  readonly dataDir: string;
  readonly baseDir: string;
  readonly access: AccessControl;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly onClientPublish: ClientPublishHandler;
}

export interface EmbeddedBroker {
  readonly aedes: WeirAedes;
  readonly listeners: readonly { name: ListenerName; port: number; host: string }[];
  /** Publishes as the gateway itself (no ACL, no ingestion). */
  publish(topic: string, payload: Buffer | string, options?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
  /** The same without a promise, for the per-reading hot path; a failure goes to `onError`. */
  send(topic: string, payload: string, qos: 0 | 1, retain: boolean, onError: (e: Error, topic: string) => void): void;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(o: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { config, metrics, log } = o;
  const persistence = config.persistence.enabled
    ? await openBrokerPersistence({
        dir: join(o.dataDir, 'broker'),
        maxQueuedPerClient: config.limits.maxQueued,
        onQueueDrop: (clientId) => {
          metrics.limitHits.inc({ limit: 'queued' });
          log.warn({ clientId }, 'Dropped the oldest queued message of an offline client: its queue is full.');
        },
      }).catch((e: unknown) => {
        throw new WeirError('PERSISTENCE_FAILED', (e as Error).message, { cause: e });
      })
    : undefined;

  let aedes: WeirAedes | undefined;
  aedes = new WeirAedes({
    ...(persistence ? { persistence } : {}),
    // a fresh id per boot (kept in the store) so stored wills of a crashed run get published
    id: persistence?.brokerId ?? 'weir',
    connectTimeout: parseDuration(config.limits.connectTimeout),
    maxInflightInbound: config.limits.maxInflight,
    maxClientsIdLength: config.limits.maxClientIdLength,
    // a slow subscriber must not stall delivery to everyone else
    drainTimeout: 30_000,
    ...brokerHooks({
      access: o.access,
      metrics,
      log,
      maxClientIdLength: config.limits.maxClientIdLength,
      keepaliveLimit: config.limits.keepaliveLimit,
      onClientPublish: o.onClientPublish,
      broker: () => aedes!,
    }),
  });
  await aedes.listen();
  watchClients(aedes, metrics, log);

  let listeners: OpenListener[];
  try {
    listeners = await openListeners(config.listeners, o.baseDir, {
      handle: (stream, listener) => {
        metrics.connectionsTotal.inc({ listener });
        aedes!.handle(stream as never);
      },
      maxConnections: config.limits.maxConnections,
      maxPacketSize: parseSize(config.limits.maxPacketSize),
      onLimit: (limit, detail) => {
        metrics.limitHits.inc({ limit });
        log.warn({ limit, ...detail }, 'Closed a connection at a protective limit.');
      },
    });
  } catch (error) {
    await closeAedes(aedes);
    await persistence?.close();
    throw error;
  }
  for (const l of listeners) log.info({ listener: l.name, host: l.address.address, port: l.address.port }, 'MQTT listener open.');

  return {
    aedes,
    listeners: listeners.map((l) => ({ name: l.name, host: l.address.address, port: l.address.port })),
    publish(topic, payload, options = {}) {
      const packet: PublishPacket = {
        cmd: 'publish',
        topic,
        payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
        qos: options.qos ?? 0,
        retain: options.retain ?? false,
        dup: false,
      };
      return new Promise((resolve, reject) => aedes!.publish(packet, (e?: Error) => (e ? reject(e) : resolve())));
    },
    send(topic, payload, qos, retain, onError) {
      const packet: PublishPacket = { cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain, dup: false };
      aedes!.publish(packet, (e?: Error) => e && onError(e, topic));
    },
    async close() {
      await Promise.all(listeners.map((l) => l.close()));
      await aedes!.settled(5000); // acknowledged publishes reach the store before it closes
      await closeAedes(aedes!);
      await persistence?.close();
    },
  };
}

function closeAedes(aedes: WeirAedes): Promise<void> {
  return new Promise((resolve) => aedes.close(() => resolve()));
}

function watchClients(aedes: WeirAedes, metrics: Metrics, log: Logger): void {
  aedes.on('clientReady', (client: Client) => {
    metrics.connections.inc();
    log.debug({ clientId: client.id }, 'Client connected.');
  });
  aedes.on('clientDisconnect', (client: Client) => {
    metrics.connections.dec();
    log.debug({ clientId: client.id }, 'Client disconnected.');
  });
  // Malformed bytes or a broken socket end that client's connection, never the gateway.
  aedes.on('clientError', (client: Client, error: Error) => {
    metrics.clientErrors.inc();
    log.info({ clientId: client.id, err: error.message }, 'Closed a client connection on an error.');
  });
  aedes.on('connectionError', (client: Client, error: Error) => {
    metrics.clientErrors.inc();
    log.info({ clientId: client.id, err: error.message }, 'Closed a connection before CONNECT completed.');
  });
}
