/**
 * `weir sim replay`: NDJSON reading lines sent to a broker as devices would
 * send them: consecutive lines of one device at one time become one
 * `weir/{device}/telemetry` JSON message with its `ts`, paced by the recorded
 * times (scaled by `speed`), or as fast as acknowledgements allow (speed 0).
 * String values travel on `sensors/{device}/{metric}`, whose decoder keeps
 * strings but has no timestamp.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { connectAsync, type MqttClient } from 'mqtt';
import { parseLine, type ReadingLine } from './ndjson.js';

export interface ReplayOptions {
  readonly file: string;
  readonly url: string;
  /** 1 = recorded pace, 10 = ten times faster, 0 = no pacing. Default 0. */
  readonly speed?: number;
  readonly qos?: 0 | 1 | 2;
  readonly signal?: AbortSignal;
  /** At most this many unacknowledged messages (backpressure). Default 1000. */
  readonly window?: number;
}

export interface ReplayResult {
  readonly lines: number;
  readonly bad: readonly { line: number; reason: string }[];
  readonly messages: number;
  readonly acknowledged: number;
  readonly failed: number;
}

export async function replayNdjson(o: ReplayOptions): Promise<ReplayResult> {
  const client = await connectAsync(o.url, { clientId: `sim-replay-${process.pid}`, reconnectPeriod: 1000, connectTimeout: 10_000 });
  client.on('error', () => undefined);
  const pub = new Publisher(client, o.qos ?? 1, o.window ?? 1000);
  const bad: { line: number; reason: string }[] = [];
  let lines = 0;
  let lineNo = 0;
  let group: ReadingLine[] = [];
  let first: { ts: number; at: number } | undefined;
  const speed = o.speed ?? 0;
  const flush = async () => {
    if (group.length === 0) return;
    const head = group[0]!;
    if (speed > 0) {
      first ??= { ts: head.ts, at: Date.now() };
      const wait = first.at + (head.ts - first.ts) / speed - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await pub.send(group);
    group = [];
  };
  const input = createInterface({ input: createReadStream(o.file, 'utf8'), crlfDelay: Infinity });
  for await (const text of input) {
    lineNo++;
    if (o.signal?.aborted) break;
    if (text.trim() === '') continue;
    const parsed = parseLine(text);
    if (!parsed.ok) {
      bad.push({ line: lineNo, reason: parsed.reason });
      continue;
    }
    lines++;
    const l = parsed.line;
    const head = group[0];
    if (head && (head.device !== l.device || head.ts !== l.ts || group.some((g) => g.metric === l.metric))) await flush();
    group.push(l);
  }
  await flush();
  await pub.drain();
  await client.endAsync();
  return { lines, bad, messages: pub.sent, acknowledged: pub.acknowledged, failed: pub.failed };
}

class Publisher {
  sent = 0;
  acknowledged = 0;
  failed = 0;
  readonly #client: MqttClient;
  readonly #qos: 0 | 1 | 2;
  readonly #window: number;
  #waiters: (() => void)[] = [];

  constructor(client: MqttClient, qos: 0 | 1 | 2, window: number) {
    this.#client = client;
    this.#qos = qos;
    this.#window = window;
  }

  async send(group: readonly ReadingLine[]): Promise<void> {
    const device = group[0]!.device;
    const numeric: Record<string, number | boolean> = {};
    for (const l of group) {
      if (typeof l.value === 'string') this.#publish(`sensors/${device}/${l.metric}`, l.value);
      else numeric[l.metric] = l.value;
    }
    if (Object.keys(numeric).length > 0) this.#publish(`weir/${device}/telemetry`, JSON.stringify({ ...numeric, ts: group[0]!.ts }));
    while (this.sent - this.acknowledged - this.failed >= this.#window) await new Promise<void>((r) => this.#waiters.push(r));
  }

  async drain(): Promise<void> {
    while (this.sent - this.acknowledged - this.failed > 0) await new Promise<void>((r) => this.#waiters.push(r));
  }

  #publish(topic: string, payload: string): void {
    this.sent++;
    this.#client.publish(topic, payload, { qos: this.#qos }, (e) => {
      if (e) this.failed++;
      else this.acknowledged++;
      const waiters = this.#waiters;
      this.#waiters = [];
      waiters.forEach((w) => w());
    });
  }
}
