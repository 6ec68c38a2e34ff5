/**
 * What the throughput and latency runs need from an MQTT client, so the same
 * runs can drive the raw-socket client (the default) or MQTT.js, and show how
 * much the client itself limits the figures.
 */
import type { Telemetry } from './payloads.js';

export interface LoadClient {
  /** Every PUBLISH the broker delivers. */
  onPublish: (topic: string, payload: Buffer) => void;
  /** Every PUBACK for a QoS 1 publish. */
  onPuback: () => void;
  /** After the client has handled incoming bytes: the place to top up a send window. */
  onRead: () => void;
  readonly error: Error | undefined;
  subscribe(filter: string, qos: 0 | 1): Promise<void>;
  /** Sends one message made by `prepare` (encoding happens before the clock starts when the client can). */
  send(prepared: unknown): void;
  /** Encodes and sends now: for latency probes, whose payload is made at send time. */
  publish(topic: string, payload: Buffer, qos: 0 | 1, seq: number): void;
  /** Batches the sends of one window top-up into one socket write where the client can. */
  cork(): void;
  uncork(): void;
  close(): Promise<void>;
}

export interface ClientFactory {
  readonly name: 'wire' | 'mqttjs';
  connect(port: number, clientId: string): Promise<LoadClient>;
  prepare(messages: readonly Telemetry[], qos: 0 | 1): readonly unknown[];
}
