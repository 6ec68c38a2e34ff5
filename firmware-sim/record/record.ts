/**
 * `weir sim record`: NDJSON reading lines, either what a scenario's devices
 * measure (generated offline on a virtual clock, no broker needed), or what a
 * running gateway republishes (`weir/readings/+`), so a captured session can
 * be replayed later against new rules.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { connectAsync } from 'mqtt';
import type { SimPlan } from '../scenario/plan.js';
import { generate, type GenerateOptions } from '../run/generate.js';
import { formatLine, linesOf, type ReadingLine } from './ndjson.js';

export type LineSink = (line: string) => void;

/** Writes lines to a file, minding backpressure only at the end (lines are small and bounded by the run). */
export function fileSink(path: string): { sink: LineSink; close: () => Promise<void>; stream: WriteStream } {
  const stream = createWriteStream(path, { encoding: 'utf8' });
  return {
    stream,
    sink: (line) => void stream.write(`${line}\n`),
    close: async () => {
      stream.end();
      await once(stream, 'finish');
    },
  };
}

/** The readings a scenario's devices send (decodable ones only: malformed and corrupted messages carry none). */
export async function recordScenario(plan: SimPlan, sink: LineSink, options: GenerateOptions = {}): Promise<{ lines: number }> {
  const tags = new Map(plan.devices.map((d) => [d.id, d.profile.tags]));
  let lines = 0;
  await generate(
    plan,
    (out) => {
      for (const l of linesOf(out, tags.get(out.device))) (sink(formatLine(l)), lines++);
    },
    options,
  );
  return { lines };
}

export interface RecordMqttOptions {
  readonly url: string;
  /** Default `weir/readings/#`. */
  readonly topic?: string;
  readonly durationMs?: number;
  /** Stop after this many lines. */
  readonly count?: number;
  readonly signal?: AbortSignal;
}

/** Subscribes to the gateway's republished readings and writes each as a line; resolves when the duration, count or signal ends it. */
export async function recordMqtt(options: RecordMqttOptions, sink: LineSink): Promise<{ lines: number; skipped: number }> {
  const client = await connectAsync(options.url, { clientId: `sim-record-${process.pid}`, reconnectPeriod: 1000, connectTimeout: 10_000 });
  client.on('error', () => undefined);
  let lines = 0;
  let skipped = 0;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  client.on('message', (_topic, payload) => {
    const line = fromReadingRecord(payload);
    if (!line) return void skipped++;
    sink(formatLine(line));
    if (++lines === options.count) finish();
  });
  await client.subscribeAsync(options.topic ?? 'weir/readings/#', { qos: 1 });
  const timer = options.durationMs === undefined ? undefined : setTimeout(finish, options.durationMs);
  options.signal?.addEventListener('abort', finish, { once: true });
  await done;
  clearTimeout(timer);
  await client.endAsync();
  return { lines, skipped };
}

/** A republished weir reading record (`{"v":1,"kind":"reading",...}`) as a line. */
function fromReadingRecord(payload: Buffer): ReadingLine | undefined {
  try {
    const r = JSON.parse(payload.toString()) as Record<string, unknown>;
    const { device, metric, value, ts, tags } = r;
    if (typeof device !== 'string' || typeof metric !== 'string' || typeof ts !== 'number') return undefined;
    if (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'string') return undefined;
    const t = tags && typeof tags === 'object' && Object.keys(tags).length > 0 ? { tags: tags as Record<string, string> } : {};
    return { ts, device, metric, value, ...t };
  } catch {
    return undefined;
  }
}
