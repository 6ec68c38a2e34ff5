/**
 * The Kafka sink: a batch from the buffer is `delivered` only once the broker
 * acknowledged every record with acks=all; anything else is `retry` or
 * `rejected`, never a silent drop.
 *
 * Client: @platformatic/kafka. It is pure TypeScript (no native build, so it
 * installs on ARM boards as on x86), maintained, and its idempotent producer is
 * a supported feature. kafkajs has had no release since 2023 and marks
 * idempotence experimental; @confluentinc/kafka-javascript needs librdkafka.
 */
import { compatibilityPartitioner, Producer, ProduceAcks, stringSerializers } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { DeliveryOutcome, PipelineRecord, Sink } from '../../core/contracts.js';
import { classifyKafkaError } from './errors.js';
import { toKafkaMessage, type KafkaMessage, type ResolvedTopics } from './messages.js';
import type { KafkaCompression } from './config.js';
import type { ConnectionOptions as TlsOptions } from 'node:tls';

export interface KafkaSinkOptions {
  readonly name: string;
  readonly gatewayId: string;
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly topics: ResolvedTopics;
  readonly compression: KafkaCompression;
  readonly tls?: TlsOptions;
  readonly sasl?: { readonly mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; readonly username: string; readonly password: string };
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly deliveryTimeoutMs: number;
  readonly log: Logger;
}

/** A wrong password is fixed by a person, not by the next attempt a second later. */
const AUTHENTICATION_RETRY_MS = 30_000;
/**
 * The client's own retries stay few: the delivery loop owns backoff, and deliver
 * must not hang. Keep it above 1: with idempotence on, the client turns 0 or 1
 * into "retry forever".
 */
const CLIENT_RETRIES = 2;
const CLIENT_RETRY_DELAY_MS = 250;

type KafkaProducer = Producer<string, string, string, string>;

interface Outgoing {
  readonly id: string;
  readonly message: KafkaMessage;
}

class DeliveryTimeout extends Error {}

export class KafkaSink implements Sink {
  readonly name: string;
  readonly #options: KafkaSinkOptions;
  readonly #log: Logger;
  #producer: KafkaProducer | undefined;
  /** deliver() calls run one after another, so batches reach Kafka in buffer order. */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #failing = false;

  constructor(options: KafkaSinkOptions) {
    this.name = options.name;
    this.#options = options;
    this.#log = options.log;
  }

  deliver(batch: readonly PipelineRecord[]): Promise<DeliveryOutcome> {
    const run = this.#queue.then(() => this.#deliver(batch));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    await this.#dropProducer(false);
  }

  async #deliver(batch: readonly PipelineRecord[]): Promise<DeliveryOutcome> {
    if (this.#closed) return { kind: 'retry', reason: 'the sink is closed' };
    if (batch.length === 0) return { kind: 'delivered' };
    const { topics, gatewayId } = this.#options;
    const messages = batch.map((r) => ({ id: r.id, message: toKafkaMessage(r, topics, gatewayId) }));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeliveryTimeout()), this.#options.deliveryTimeoutMs);
    });
    let outcome: DeliveryOutcome;
    try {
      // One producer for the whole batch: if the deadline closes it, a half still
      // pending cannot go out later through a new producer, out of order.
      outcome = await Promise.race([this.#sendSplitting(this.#getProducer(), messages), deadline]);
    } catch (error) {
      outcome = await this.#failed(error);
    } finally {
      clearTimeout(timer);
    }
    if (outcome.kind === 'delivered' && this.#failing) {
      this.#failing = false;
      this.#log.warn({ records: batch.length }, 'Kafka accepts records again.');
    } else if (outcome.kind === 'rejected') {
      this.#log.error({ records: batch.length, reason: outcome.reason }, 'Kafka rejected a batch; it goes to the dead-letter file.');
    } else if (outcome.kind === 'retry') {
      // One warning per outage, not one per attempt.
      if (!this.#failing) this.#log.warn({ records: batch.length, reason: outcome.reason }, 'Kafka did not take a batch; it will be retried.');
      else this.#log.debug({ records: batch.length, reason: outcome.reason }, 'Kafka still does not take batches.');
      this.#failing = true;
    }
    return outcome;
  }

  /**
   * One request for the whole batch. A batch too large for the topic is halved
   * (in order, halves one after another) until it fits; a single record that
   * does not fit rejects the batch.
   */
  async #sendSplitting(producer: KafkaProducer, messages: readonly Outgoing[]): Promise<DeliveryOutcome> {
    try {
      await producer.send({ messages: messages.map((m) => m.message) });
      return { kind: 'delivered' };
    } catch (error) {
      const classified = classifyKafkaError(error);
      if (classified.kind !== 'too-large') throw error;
      if (messages.length === 1) {
        return { kind: 'rejected', reason: `record ${messages[0]?.id} is larger than the topic accepts: ${classified.reason}` };
      }
      const half = Math.ceil(messages.length / 2);
      this.#log.debug({ records: messages.length, reason: classified.reason }, 'Batch too large for the topic; sending it in halves.');
      const first = await this.#sendSplitting(producer, messages.slice(0, half));
      if (first.kind !== 'delivered') return first;
      return this.#sendSplitting(producer, messages.slice(half));
    }
  }

  async #failed(error: unknown): Promise<DeliveryOutcome> {
    if (error instanceof DeliveryTimeout) {
      // The client may still be retrying that send: end it, so a later attempt
      // cannot be overtaken by a stale one.
      await this.#dropProducer(true);
      return { kind: 'retry', reason: `no acknowledgement within ${this.#options.deliveryTimeoutMs} ms` };
    }
    const classified = classifyKafkaError(error);
    if (classified.kind === 'rejected' || classified.kind === 'too-large') return { kind: 'rejected', reason: classified.reason };
    if (classified.resetProducer) {
      this.#log.warn({ reason: classified.reason }, 'Kafka no longer knows this producer; starting a new one (the batch may be written twice).');
      await this.#dropProducer(true);
    }
    if (classified.authentication) {
      this.#log.error({ reason: classified.reason }, 'Kafka refused the credentials; check the sink\u2019s sasl settings.');
      return { kind: 'retry', reason: classified.reason, afterMs: AUTHENTICATION_RETRY_MS };
    }
    return { kind: 'retry', reason: classified.reason };
  }

  #getProducer(): KafkaProducer {
    if (this.#producer) return this.#producer;
    const o = this.#options;
    this.#producer = new Producer<string, string, string, string>({
      clientId: o.clientId,
      bootstrapBrokers: [...o.brokers],
      serializers: stringSerializers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      compression: o.compression,
      // The Java client's key -> partition mapping (murmur2 & 0x7fffffff): the client's
      // default differs for half the keys, and a device must land where Java producers
      // and Kafka Streams expect it.
      partitioner: compatibilityPartitioner,
      // Only creates a missing topic where the broker allows auto-creation.
      autocreateTopics: true,
      retries: CLIENT_RETRIES,
      retryDelay: CLIENT_RETRY_DELAY_MS,
      connectTimeout: o.connectTimeoutMs,
      timeout: o.requestTimeoutMs,
      ...(o.tls ? { tls: o.tls } : {}),
      ...(o.sasl ? { sasl: { ...o.sasl } } : {}),
    });
    // The client's pool listens for a connection's first 'error' only; a second one
    // would be an uncaught exception. Failed requests still report through send().
    this.#producer.on('client:broker:connect', (event: { connection?: NodeJS.EventEmitter }) => {
      event.connection?.on('error', (e: unknown) => this.#log.debug({ err: e }, 'Kafka connection error.'));
    });
    return this.#producer;
  }

  async #dropProducer(force: boolean): Promise<void> {
    const producer = this.#producer;
    this.#producer = undefined;
    if (!producer) return;
    try {
      // Called without a callback, close returns a promise whatever its overloads say.
      await producer.close(force);
    } catch (e) {
      this.#log.debug({ err: e }, 'Closing the Kafka producer failed.');
    }
  }
}
