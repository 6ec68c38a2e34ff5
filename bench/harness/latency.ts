/**
 * Publish-to-delivery latency at a paced rate. Publisher and subscriber share
 * this process and its clock: each probe carries its send time
 * (performance.now(), ms) as its one metric value, which weir copies into the
 * republished reading's `value` and the other brokers deliver untouched.
 */
import { performance } from 'node:perf_hooks';
import type { ClientFactory } from './load-client.js';
import { deviceTopic, probeBody } from './payloads.js';
import { distribution, type Distribution } from './stats.js';
import type { RunningBroker } from './brokers.js';

export interface LatencyOptions {
  readonly qos: 0 | 1;
  /** Messages per second. */
  readonly rate: number;
  readonly seconds: number;
  readonly devices: number;
  readonly clients: ClientFactory;
  readonly tag: string;
}

export interface LatencyResult {
  readonly sent: number;
  readonly received: number;
  /** What the pacing achieved, messages per second. */
  readonly achievedRate: number;
  /** Milliseconds. */
  readonly latency: Distribution;
}

const TICK_MS = 1;
const GRACE_MS = 3000;

export async function runLatency(broker: RunningBroker, o: LatencyOptions): Promise<LatencyResult> {
  const total = Math.round(o.rate * o.seconds);
  const samples = new Float64Array(total);
  let received = 0;
  const sub = await o.clients.connect(broker.port, `bench-lat-sub-${o.tag}`);
  await sub.subscribe(broker.filter, 0);
  const pub = await o.clients.connect(broker.port, `bench-lat-pub-${o.tag}`);
  sub.onPublish = (_topic, payload) => {
    const now = performance.now();
    const body = JSON.parse(payload.toString()) as { value?: unknown; temp?: unknown };
    const sentAt = broker.republishes ? body.value : body.temp;
    if (typeof sentAt === 'number' && received < total) samples[received++] = now - sentAt;
  };

  let sent = 0;
  let lastSendAt = 0;
  const startedAt = performance.now();
  try {
    // Ticks of ~1 ms send whatever the schedule says is due: ~5 messages per tick at 5k/s.
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(total, Math.floor(((performance.now() - startedAt) * o.rate) / 1000));
        if (due > sent) {
          pub.cork();
          while (sent < due) {
            pub.publish(deviceTopic(sent % o.devices), probeBody(performance.now()), o.qos, sent);
            sent++;
          }
          pub.uncork();
          lastSendAt = performance.now();
        }
        if (sent >= total) {
          clearInterval(timer);
          resolve();
        }
      }, TICK_MS);
    });
    const deadline = performance.now() + GRACE_MS;
    while (received < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  } finally {
    await Promise.all([pub.close(), sub.close()]);
  }
  return {
    sent,
    received,
    achievedRate: (sent / (lastSendAt - startedAt)) * 1000,
    latency: distribution(samples.subarray(0, received)),
  };
}
