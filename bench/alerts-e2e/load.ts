/**
 * Paced readings in, alerts out, in this process (one clock for both ends).
 *
 * Reading i goes to device i % DEVICES as `{"temp": v}` on weir/<device>/telemetry.
 * Each device's readings alternate above and below 80 (v = 1000 + i, then
 * v = -(i + 1)), so weir's threshold rule raises, then clears, then raises:
 * one alert per reading, as Node-RED's switch gives one message per reading.
 * The value comes back in the alert, which tells which reading it answers.
 */
import { connect, type MqttClient } from 'mqtt';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { distribution, type Distribution } from '../harness/stats.js';
import { memoryOf } from '../harness/proc.js';
import type { RunningSystem } from './systems.js';

export const DEVICES = 100;
const TICK_MS = 1;

export interface Step {
  readonly rate: number;
  readonly sent: number;
  readonly received: number;
  /** Alerts that arrived twice or answered no reading of this step. */
  readonly stray: number;
  readonly achievedRate: number;
  /** Alerts per second between the first publish and the last alert. */
  readonly deliveredRate: number;
  /** Milliseconds, publish to alert received. */
  readonly latency: Distribution;
  /** Largest RSS seen per process during the step, bytes. */
  readonly peakRss: Readonly<Record<string, number>>;
  /** RSS per process every second of the step (and its grace period): [seconds since start, bytes by process]. */
  readonly rssTimeline: readonly (readonly [number, Readonly<Record<string, number>>])[];
}

export interface Session {
  step(rate: number, seconds: number, graceMs: number): Promise<Step>;
  close(): Promise<void>;
}

export async function openSession(system: RunningSystem, tag: string): Promise<Session> {
  const sub = await client(system.port, `alerts-sub-${tag}`);
  await sub.subscribeAsync(system.alertFilter, { qos: 0 });
  const pub = await client(system.port, `alerts-pub-${tag}`);
  const topics = Array.from({ length: DEVICES }, (_, d) => `weir/dev-${d}/telemetry`);
  const key = Buffer.from(`"${system.valueField}":`);
  let next = 0; // reading number, across steps, so each device keeps alternating
  let onAlert: (value: number, at: number) => void = () => {};
  // the value is read where it sits in the payload, without decoding the whole alert: the harness's
  // own garbage collections delay the time it takes, and an alert is 20x the size of a reading
  sub.on('message', (_topic, payload) => {
    const at = performance.now();
    const i = payload.indexOf(key);
    if (i >= 0) onAlert(Number.parseFloat(payload.toString('latin1', i + key.length, i + key.length + 24)), at);
  });

  return {
    async step(rate, seconds, graceMs) {
      const total = Math.round(rate * seconds);
      const first = next;
      const sentAt = new Float64Array(total);
      const latency = new Float64Array(total);
      const seen = new Uint8Array(total);
      let received = 0;
      let stray = 0;
      let lastAlertAt = 0;
      onAlert = (value, at) => {
        const n = (value >= 1000 ? value - 1000 : -value - 1) - first;
        if (!(n >= 0 && n < total) || seen[n]) return void stray++;
        seen[n] = 1;
        latency[received++] = at - sentAt[n]!;
        lastAlertAt = at;
      };
      const peak: Record<string, number> = {};
      const timeline: [number, Record<string, number>][] = [];
      let ticks = 0;
      const rss = setInterval(() => {
        const now = sampleRss(system, peak);
        if (++ticks % 10 === 0) timeline.push([ticks / 10, now]);
      }, 100);
      let sent = 0;
      let lastSendAt = 0;
      const startedAt = performance.now();
      try {
        await new Promise<void>((resolve) => {
          const timer = setInterval(() => {
            const due = Math.min(total, Math.floor(((performance.now() - startedAt) * rate) / 1000));
            if (due > sent) {
              const stream = pub.stream as Socket;
              stream.cork();
              for (; sent < due; sent++) {
                const i = first + sent;
                const k = Math.floor(i / DEVICES);
                const v = k % 2 === 0 ? 1000 + i : -(i + 1);
                sentAt[sent] = performance.now();
                pub.publish(topics[i % DEVICES]!, `{"temp":${v}}`, { qos: 0 });
              }
              stream.uncork();
              lastSendAt = performance.now();
            }
            if (sent >= total) {
              clearInterval(timer);
              resolve();
            }
          }, TICK_MS);
        });
        const deadline = performance.now() + graceMs;
        while (received < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      } finally {
        clearInterval(rss);
        sampleRss(system, peak);
        next = first + total;
        onAlert = () => void stray++;
      }
      return {
        rate,
        sent,
        received,
        stray,
        achievedRate: (sent / (lastSendAt - startedAt)) * 1000,
        deliveredRate: received > 0 ? (received / (lastAlertAt - startedAt)) * 1000 : 0,
        latency: distribution(latency.subarray(0, received)),
        peakRss: peak,
        rssTimeline: timeline,
      };
    },
    async close() {
      await Promise.all([pub.endAsync(), sub.endAsync()]);
    },
  };
}

/** Samples every process of the system; keeps the peaks; returns this sample. */
function sampleRss(system: RunningSystem, peak: Record<string, number>): Record<string, number> {
  const now: Record<string, number> = {};
  for (const [name, pid] of Object.entries(system.pids)) {
    const rss = memoryOf(pid)?.rss;
    if (rss === undefined) continue;
    now[name] = rss;
    if (!(rss <= (peak[name] ?? 0))) peak[name] = rss;
  }
  return now;
}

async function client(port: number, clientId: string): Promise<MqttClient> {
  const c = connect({ host: '127.0.0.1', port, clientId, clean: true, keepalive: 0, reconnectPeriod: 0, protocolVersion: 4 });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  if (c.stream instanceof Socket) c.stream.setNoDelay(true);
  return c;
}
