/**
 * One throughput run: a publisher writes pre-encoded PUBLISH packets as fast
 * as the broker takes them and a subscriber counts arrivals. The publisher
 * keeps at most `window` messages outstanding (sent, not yet received by the
 * subscriber; at QoS 1 also not yet PUBACKed), so it measures the broker's
 * pace rather than how fast socket buffers fill.
 */
import { performance } from 'node:perf_hooks';
import type { ClientFactory } from './load-client.js';
import { cpuMsOf, machineBusyMs, sampleRss } from './proc.js';
import type { RunningBroker } from './brokers.js';

export interface ThroughputOptions {
  readonly qos: 0 | 1;
  readonly window: number;
  readonly clients: ClientFactory;
  /** Messages made by `clients.prepare` for this QoS, sent in order. */
  readonly prepared: readonly unknown[];
  /** A run that makes no progress for this long fails. */
  readonly stallMs: number;
  readonly tag: string;
}

export interface ThroughputResult {
  readonly messages: number;
  readonly elapsedMs: number;
  /** Messages received by the subscriber per second. */
  readonly rate: number;
  /** Broker process CPU (user + system) per 1,000 messages, ms; /proc has 10 ms resolution. */
  readonly brokerCpuMsPer1k: number;
  /** Broker CPU as a share of one core over the run (1 = one core busy). */
  readonly brokerCores: number;
  /** This (load generator) process's CPU as a share of one core over the run. */
  readonly clientCores: number;
  /** Everything else that kept the machine's cores busy during the run (other users, the kernel): the noise. */
  readonly otherCores: number;
  readonly peakRss: number;
}

export async function runThroughput(broker: RunningBroker, o: ThroughputOptions): Promise<ThroughputResult> {
  const total = o.prepared.length;
  const sub = await o.clients.connect(broker.port, `bench-sub-${o.tag}`);
  await sub.subscribe(broker.filter, 0);
  const pub = await o.clients.connect(broker.port, `bench-pub-${o.tag}`);

  let sent = 0;
  let acked = 0;
  let received = 0;
  let finishedAt = 0;
  const pump = () => {
    const settled = o.qos === 0 ? received : Math.min(received, acked);
    const limit = Math.min(total, settled + o.window);
    if (sent >= limit) return;
    pub.cork();
    while (sent < limit) pub.send(o.prepared[sent++]);
    pub.uncork();
  };

  const rss = sampleRss(broker.pid, 100);
  const cpuBefore = cpuMsOf(broker.pid);
  const clientBefore = process.cpuUsage();
  const machineBefore = machineBusyMs();
  const startedAt = performance.now();
  try {
    await new Promise<void>((resolve, reject) => {
      let seen = 0;
      let lastProgress = performance.now();
      const watchdog = setInterval(() => {
        const now = performance.now();
        if (received !== seen) {
          seen = received;
          lastProgress = now;
        } else if (now - lastProgress > o.stallMs) {
          clearInterval(watchdog);
          const why = pub.error ?? sub.error;
          reject(new Error(`${broker.kind} QoS ${o.qos}: stalled at ${received}/${total} received, ${sent} sent, ${acked} acked${why ? ` (${why.message})` : ''}`));
        }
      }, 250);
      sub.onPublish = () => {
        if (++received === total) {
          finishedAt = performance.now();
          clearInterval(watchdog);
          resolve();
        }
      };
      sub.onRead = pump;
      pub.onPuback = () => void acked++;
      pub.onRead = pump;
      pump();
    });
  } finally {
    await Promise.all([pub.close(), sub.close()]);
  }
  const elapsedMs = finishedAt - startedAt;
  const brokerCpu = cpuMsOf(broker.pid) - cpuBefore;
  const client = process.cpuUsage(clientBefore);
  const machineCores = (machineBusyMs() - machineBefore) / elapsedMs;
  const clientCores = (client.user + client.system) / 1000 / elapsedMs;
  return {
    messages: total,
    elapsedMs,
    rate: (total / elapsedMs) * 1000,
    brokerCpuMsPer1k: (brokerCpu / total) * 1000,
    brokerCores: brokerCpu / elapsedMs,
    clientCores,
    otherCores: Math.max(0, machineCores - brokerCpu / elapsedMs - clientCores),
    peakRss: rss.stop(),
  };
}
