/**
 * Publish-to-receive latency: subscribes to a topic the gateway publishes on
 * (its republished readings, its alerts) and measures now minus the `ts` in
 * each JSON payload. Device timestamps are the scheduled send times, so time a
 * message waited behind a slow simulator counts too (no coordinated omission).
 */
import { connectAsync, type MqttClient } from 'mqtt';
import type { Histogram } from './histogram.js';

export class LatencyWatch {
  readonly #client: MqttClient;

  private constructor(client: MqttClient) {
    this.#client = client;
  }

  static async start(url: string, topic: string, histogram: Histogram, now: () => number = Date.now): Promise<LatencyWatch> {
    const client = await connectAsync(url, { clientId: `sim-watch-${process.pid}-${Math.floor(Math.random() * 1e6)}`, reconnectPeriod: 1000, connectTimeout: 10_000 });
    client.on('error', () => undefined);
    client.on('message', (_topic, payload) => {
      const ts = timestampOf(payload);
      if (ts !== undefined) histogram.record(now() - ts);
    });
    await client.subscribeAsync(topic, { qos: 0 });
    return new LatencyWatch(client);
  }

  async stop(): Promise<void> {
    await this.#client.endAsync(true);
  }
}

function timestampOf(payload: Buffer): number | undefined {
  try {
    const o = JSON.parse(payload.toString()) as { ts?: unknown };
    const ts = typeof o.ts === 'number' ? o.ts : typeof o.ts === 'string' ? Date.parse(o.ts) : Number.NaN;
    return Number.isFinite(ts) ? ts : undefined;
  } catch {
    return undefined;
  }
}
