/**
 * Seeded device telemetry: `weir/{device}/telemetry` with a 100-byte JSON object
 * holding exactly one numeric metric (string fields are not readings), so one
 * message is one reading and messages/s compares across brokers.
 */
import { mulberry32 } from '../../firmware-sim/random.js';

export const PAYLOAD_BYTES = 100;
const METRICS = ['temp', 'humidity', 'pressure', 'co2'] as const;
const FIRMWARE = '2.1.0';
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** The simulator's seeded PRNG: the same messages for the same seed. */
export const seededRandom = mulberry32;

export interface Telemetry {
  readonly topic: string;
  readonly payload: Buffer;
}

/** `{"<metric>":<value>,"fw":"2.1.0","note":"<pad>"}`, padded to exactly PAYLOAD_BYTES. */
export function telemetryBody(metric: string, value: string, pad: (n: number) => string): Buffer {
  const head = `{"${metric}":${value},"fw":"${FIRMWARE}","note":"`;
  const tail = '"}';
  const n = PAYLOAD_BYTES - head.length - tail.length;
  if (n < 0) throw new RangeError(`metric ${metric}=${value} does not fit in ${PAYLOAD_BYTES} bytes`);
  return Buffer.from(head + pad(n) + tail);
}

export function deviceTopic(device: number): string {
  return `weir/dev-${String(device).padStart(3, '0')}/telemetry`;
}

/** `count` messages from `devices` devices, the same for the same seed. */
export function seededTelemetry(seed: number, count: number, devices: number): Telemetry[] {
  const rnd = seededRandom(seed);
  const pad = (n: number) => {
    let s = '';
    for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
    return s;
  };
  const out: Telemetry[] = [];
  for (let i = 0; i < count; i++) {
    const device = Math.floor(rnd() * devices);
    const metric = METRICS[Math.floor(rnd() * METRICS.length)]!;
    const value = (rnd() * 100 - 20).toFixed(2);
    out.push({ topic: deviceTopic(device), payload: telemetryBody(metric, value, pad) });
  }
  return out;
}

/** Latency probes carry their send time (performance.now(), ms) as the metric value. */
export function probeBody(sentAt: number): Buffer {
  return telemetryBody('temp', sentAt.toFixed(6), (n) => 'x'.repeat(n));
}
