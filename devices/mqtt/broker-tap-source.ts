/**
 * The embedded broker as a source: every publish a client makes (and the ACL
 * allows) becomes a frame. The broker calls `onPublish`; the returned promise
 * is what its PUBACK/PUBREC waits for.
 */
import type { Frame, Ingest, IngestError, Source } from '../../gateway/core/contracts.js';

export type TapMeta = {
  readonly clientId: string;
  readonly qos: number;
  readonly retain: boolean;
};

export class BrokerTapSource implements Source {
  readonly name = 'mqtt:embedded';
  #ingest: Ingest | undefined;

  async start(ingest: Ingest, _ingestError: IngestError): Promise<void> {
    this.#ingest = ingest;
  }

  async stop(): Promise<void> {
    this.#ingest = undefined;
  }

  readonly onPublish = (topic: string, payload: Buffer, meta: TapMeta): void | Promise<void> => {
    const ingest = this.#ingest;
    if (!ingest) return;
    const frame: Frame = { source: this.name, address: topic, payload, receivedAt: Date.now(), meta };
    return ingest(frame);
  };
}
