/**
 * A real Kafka broker for tests, started and stopped through
 * test/services/kafka.sh (the same script CI and people use), and a reader that
 * consumes a whole topic back with @platformatic/kafka from the earliest offset.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Admin, Consumer, stringDeserializers } from '@platformatic/kafka';

const run = promisify(execFile);
const SCRIPT = resolve(import.meta.dirname, '../services/kafka.sh');

export interface KafkaBroker {
  /** `127.0.0.1:PORT` of the anonymous plaintext listener. */
  readonly bootstrap: string;
  /** Every listener by name: PLAINTEXT, and with `secure` SASL_PLAINTEXT and SSL. */
  readonly listeners: Readonly<Record<string, string>>;
  readonly dir: string;
  /** The CA that signed the SSL listener's certificate (`secure` only). */
  readonly caFile: string;
  /** Stops the broker (SIGTERM) and keeps its data and ports: an outage. */
  halt(): Promise<void>;
  /** SIGKILLs the broker and keeps its data and ports: a crash. */
  crash(): Promise<void>;
  /** Starts it again on the same ports with the same data. */
  restart(): Promise<void>;
  /** Stops it and removes its data. */
  dispose(): Promise<void>;
}

export async function startKafka(options: { secure?: boolean; serverProps?: string } = {}): Promise<KafkaBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'weir-kafka-'));
  const env = {
    ...process.env,
    KAFKA_OWNER_PID: String(process.pid),
    ...(options.secure ? { KAFKA_SECURE: '1' } : {}),
    ...(options.serverProps ? { KAFKA_SERVER_PROPS: options.serverProps } : {}),
  };
  const script = (command: string) => run('bash', [SCRIPT, command, dir], { env, timeout: 600_000, maxBuffer: 16 * 1024 * 1024 });
  let bootstrap: string;
  try {
    const { stdout } = await script('start');
    bootstrap = stdout.trim().split('\n').at(-1) ?? '';
  } catch (e) {
    await script('stop').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const listeners = Object.fromEntries(
    readFileSync(join(dir, 'listeners'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split('=') as [string, string]),
  );
  return {
    bootstrap,
    listeners,
    dir,
    caFile: join(dir, 'tls', 'ca.pem'),
    halt: async () => void (await script('halt')),
    crash: async () => void (await script('kill')),
    restart: async () => void (await script('start')),
    dispose: async () => {
      await script('stop');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function createTopic(
  bootstrap: string,
  topic: string,
  partitions: number,
  configs: Record<string, string> = {},
): Promise<void> {
  const admin = new Admin({ clientId: 'weir-test-admin', bootstrapBrokers: [bootstrap] });
  try {
    await admin.createTopics({
      topics: [topic],
      partitions,
      replicas: 1,
      configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
    });
  } finally {
    await admin.close();
  }
}

export interface ConsumedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Everything in the topic now, in offset order per partition: a consumer in a
 * fresh group from the earliest offset, until each partition's high watermark.
 */
export async function readTopic(bootstrap: string, topic: string, timeoutMs = 20_000): Promise<ConsumedMessage[]> {
  const consumer = new Consumer<string, string, string, string>({
    clientId: 'weir-test-reader',
    groupId: `weir-test-${topic}-${process.hrtime.bigint()}`,
    bootstrapBrokers: [bootstrap],
    deserializers: stringDeserializers,
    maxWaitTime: 200,
  });
  try {
    const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
    const pending = new Map<number, bigint>();
    ends.forEach((end, partition) => end > 0n && pending.set(partition, end));
    const out: ConsumedMessage[] = [];
    if (pending.size === 0) return out;
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    const timer = setTimeout(() => stream.destroy(new Error(`reading ${topic}: ${out.length} messages, still waiting for partitions ${[...pending.keys()].join(',')} after ${timeoutMs} ms`)), timeoutMs);
    try {
      for await (const m of stream) {
        out.push({
          topic: m.topic,
          partition: m.partition,
          offset: m.offset,
          key: m.key,
          value: m.value,
          headers: Object.fromEntries(m.headers),
        });
        if (m.offset + 1n >= (pending.get(m.partition) ?? 0n)) pending.delete(m.partition);
        if (pending.size === 0) break;
      }
    } finally {
      clearTimeout(timer);
    }
    return out.sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset));
  } finally {
    await consumer.close(true);
  }
}
