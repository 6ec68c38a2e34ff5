/**
 * `kind: kafka`: the factory the sink registry calls, from a validated config.
 * Reads TLS files and resolves topic templates here, so a bad setting fails at boot.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
import { parseDuration } from '../../core/units.js';
import { WeirError } from '../../core/errors.js';
import type { KafkaSinkConfig } from './config.js';
import { KafkaSink } from './kafka-sink.js';
import { resolveTopic } from './messages.js';

export { KafkaSinkConfigSchema, KAFKA_COMPRESSIONS, type KafkaSinkConfig, type KafkaCompression } from './config.js';
export { KafkaSink, type KafkaSinkOptions } from './kafka-sink.js';
export { HEADER_GATEWAY, HEADER_ID, HEADER_KIND, HEADER_REPLAY, messageKey, toKafkaMessage } from './messages.js';
export { classifyKafkaError } from './errors.js';

/** What the factory needs from the registry's SinkContext (which it accepts as is). */
export interface KafkaSinkContext {
  readonly gatewayId: string;
  /** The registry's child logger for this sink (`{ component: 'sink', sink: name }`). */
  readonly log: Logger;
  /** Relative TLS file paths resolve against this; default: the working directory. */
  readonly baseDir?: string;
}

const SASL_MECHANISMS = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

export function createKafkaSink(config: KafkaSinkConfig, context: KafkaSinkContext): KafkaSink {
  const { gatewayId } = context;
  return new KafkaSink({
    name: config.name,
    gatewayId,
    brokers: config.brokers,
    clientId: config.clientId ?? `weir-${gatewayId}`,
    topics: {
      reading: resolveTopic(config.topics.readings, { gateway: gatewayId, kind: 'reading' }),
      alert: resolveTopic(config.topics.alerts, { gateway: gatewayId, kind: 'alert' }),
    },
    compression: config.compression,
    ...(config.tls ? { tls: readTls(config.name, config.tls, context.baseDir ?? process.cwd()) } : {}),
    ...(config.sasl
      ? { sasl: { mechanism: SASL_MECHANISMS[config.sasl.mechanism], username: config.sasl.username, password: config.sasl.password } }
      : {}),
    connectTimeoutMs: parseDuration(config.connectTimeout),
    requestTimeoutMs: parseDuration(config.requestTimeout),
    deliveryTimeoutMs: parseDuration(config.deliveryTimeout),
    log: context.log,
  });
}

function readTls(sink: string, tls: NonNullable<KafkaSinkConfig['tls']>, baseDir: string): TlsOptions {
  const read = (what: string, file: string | undefined) => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(resolve(baseDir, file));
    } catch (e) {
      throw new WeirError('TLS_FILES_UNREADABLE', `sink ${sink}: cannot read tls.${what} ${file}: ${(e as Error).message}`, { cause: e });
    }
  };
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new WeirError('CONFIG_INVALID', `sink ${sink}: tls.cert and tls.key go together (a client certificate needs its key)`);
  }
  const ca = read('ca', tls.ca);
  const cert = read('cert', tls.cert);
  const key = read('key', tls.key);
  return {
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
  };
}
