/**
 * Test peers for the forwarding suites: an in-memory RecordBuffer double that
 * keeps the contract's read/ack semantics, a scripted sink, record factories,
 * VictoriaMetrics started through test/services/victoria-metrics.sh, and a
 * Mosquitto with persistence (so a restart keeps the test subscriber's
 * session). Every process started here is ended through its handle.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../gateway/core/clock.js';
import type { BufferedRecord, BufferReadOptions, BufferStats, DeliveryOutcome, PipelineRecord, RecordBuffer, Sink, TimerHandle } from '../../gateway/core/contracts.js';
import type { AlertRecord, ReadingRecord } from '../../gateway/core/records.js';
import { exited, freePort, killChild, run, waitForPort } from './processes.js';

// ── records ──────────────────────────────────────────────────────────────────
let seq = 0;
export function reading(device: string, value: ReadingRecord['value'], at: number, extra: Partial<ReadingRecord> = {}): ReadingRecord {
  return { v: 1, kind: 'reading', id: `gw-1-${++seq}`, device, metric: 'temp', value, ts: at, receivedAt: at, source: 'mqtt:embedded', tags: {}, ...extra };
}
export function alert(rule: string, at: number, extra: Partial<AlertRecord> = {}): AlertRecord {
  return { v: 1, kind: 'alert', id: `gw-1-${++seq}`, rule, key: 'd1', device: 'd1', state: 'raise', severity: 'critical', message: `${rule} fired`, ts: at, evidence: [], tags: {}, ...extra };
}

// ── an in-memory buffer with the contract's semantics ───────────────────────
/** read() never moves the cursor; ack is cumulative; ackEach marks out-of-order deliveries the cursor skips. */
export class MemoryBuffer implements RecordBuffer {
  readonly #records: BufferedRecord[] = [];
  readonly #cursors = new Map<string, bigint>();
  readonly #ahead = new Map<string, Set<bigint>>();
  readonly #now: () => number;
  readonly #durable: (() => void)[] = [];
  #next = 0n;
  /** Every ack call, in order: ['ack', sink, upTo] or ['ackEach', sink, offsets]. */
  readonly acks: (['ack', string, bigint] | ['ackEach', string, bigint[]])[] = [];
  /** Set to make the next reads fail. */
  failReads = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async append(records: readonly PipelineRecord[]): Promise<void> {
    for (const record of records) this.#records.push({ offset: this.#next++, appendedAt: this.#now(), record });
    if (records.length > 0) for (const listener of this.#durable) listener();
  }

  onDurable(listener: () => void): void {
    this.#durable.push(listener);
  }

  async read(sink: string, max: number, options: BufferReadOptions = {}): Promise<readonly BufferedRecord[]> {
    if (this.failReads > 0) {
      this.failReads--;
      throw new Error('disk on fire');
    }
    const start = this.cursor(sink) > (options.from ?? 0n) ? this.cursor(sink) : (options.from ?? 0n);
    const ahead = this.#ahead.get(sink);
    const out: BufferedRecord[] = [];
    for (const b of this.#records) {
      if (out.length >= max) break;
      if (b.offset < start || ahead?.has(b.offset)) continue;
      if (options.kind && b.record.kind !== options.kind) continue;
      out.push(b);
    }
    return out;
  }

  async ack(sink: string, upTo: bigint): Promise<void> {
    this.acks.push(['ack', sink, upTo]);
    if (upTo + 1n > this.cursor(sink)) this.#cursors.set(sink, upTo + 1n);
    this.#advance(sink);
  }

  async ackEach(sink: string, offsets: readonly bigint[]): Promise<void> {
    this.acks.push(['ackEach', sink, [...offsets]]);
    const ahead = this.#ahead.get(sink) ?? new Set<bigint>();
    for (const o of offsets) ahead.add(o);
    this.#ahead.set(sink, ahead);
    this.#advance(sink);
  }

  nextOffset(): bigint {
    return this.#next;
  }

  /** First offset `sink` has not had in order. */
  cursor(sink: string): bigint {
    return this.#cursors.get(sink) ?? 0n;
  }

  /** Offsets `sink` has had, in order or not. */
  delivered(sink: string): bigint[] {
    const c = this.cursor(sink);
    const ahead = this.#ahead.get(sink) ?? new Set();
    return this.#records.map((b) => b.offset).filter((o) => o < c || ahead.has(o));
  }

  /** The loops never read stats; this double only fills what it knows (the shape is the buffer's to evolve). */
  stats(): BufferStats {
    return { records: this.#records.length, nextOffset: Number(this.#next), perSink: {} } as unknown as BufferStats;
  }

  async close(): Promise<void> {}

  #advance(sink: string): void {
    const ahead = this.#ahead.get(sink);
    if (!ahead) return;
    let c = this.cursor(sink);
    while (ahead.has(c)) ahead.delete(c++);
    for (const o of ahead) if (o < c) ahead.delete(o);
    this.#cursors.set(sink, c);
  }
}

// ── a sink that answers from a script ────────────────────────────────────────
export interface SinkCall {
  readonly at: number;
  readonly batch: readonly PipelineRecord[];
}

/** `answer` decides each attempt; every call is recorded with the clock's time. */
export class ScriptedSink implements Sink {
  readonly name: string;
  readonly calls: SinkCall[] = [];
  answer: (batch: readonly PipelineRecord[], call: number) => DeliveryOutcome | Promise<DeliveryOutcome>;
  readonly #now: () => number;
  closed = false;

  constructor(name: string, now: () => number, answer: ScriptedSink['answer'] = () => ({ kind: 'delivered' })) {
    this.name = name;
    this.#now = now;
    this.answer = answer;
  }

  async deliver(batch: readonly PipelineRecord[]): Promise<DeliveryOutcome> {
    this.calls.push({ at: this.#now(), batch });
    return this.answer(batch, this.calls.length);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Ids of every record of every call, flattened (retries repeat). */
  ids(): string[] {
    return this.calls.flatMap((c) => c.batch.map((r) => r.id));
  }
}

/** Lets promise chains and fs callbacks run (virtual-time tests advance the clock between these). */
export async function settle(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

// ── VictoriaMetrics ──────────────────────────────────────────────────────────
const VM_SCRIPT = join(import.meta.dirname, '..', 'services', 'victoria-metrics.sh');

export interface VictoriaMetrics {
  readonly url: string;
  /** Every sample VictoriaMetrics holds for series matching `match`, after a flush. */
  exportSeries(match: string): Promise<{ metric: Record<string, string>; values: number[]; timestamps: number[] }[]>;
  /** An outage: the process stops; data and port are kept for resume(). */
  halt(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export async function startVictoriaMetrics(): Promise<VictoriaMetrics> {
  const state = mkdtempSync(join(tmpdir(), 'weir-vm-'));
  // installing the Debian package on a fresh machine may take a while
  const { stdout } = await run('bash', [VM_SCRIPT, 'start', state], { timeout: 300_000 });
  const url = `http://127.0.0.1:${Number(stdout.trim())}`;
  return {
    url,
    async exportSeries(match) {
      await fetch(`${url}/internal/force_flush`);
      const res = await fetch(`${url}/api/v1/export?${new URLSearchParams({ 'match[]': match, start: '0' })}`);
      const text = await res.text();
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { metric: Record<string, string>; values: number[]; timestamps: number[] });
    },
    halt: async () => {
      await run('bash', [VM_SCRIPT, 'halt', state], { timeout: 30_000 });
    },
    resume: async () => {
      await run('bash', [VM_SCRIPT, 'resume', state], { timeout: 30_000 });
    },
    stop: async () => {
      await run('bash', [VM_SCRIPT, 'stop', state], { timeout: 30_000 });
    },
  };
}

// ── Mosquitto that keeps sessions across a restart ───────────────────────────
export interface DurableMosquitto {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: a broker that holds connections open but answers nothing. */
  freeze(): void;
  thaw(): void;
  dispose(): Promise<void>;
  output(): string;
}

/** /usr/sbin/mosquitto on a free loopback port, persistence on, so a restart keeps sessions and queued QoS 1 messages. */
export async function startDurableMosquitto(options: { tls?: { certFile: string; keyFile: string } } = {}): Promise<DurableMosquitto> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'weir-mosq-durable-'));
  const conf = join(dir, 'mosquitto.conf');
  const tls = options.tls ? [`certfile ${options.tls.certFile}`, `keyfile ${options.tls.keyFile}`] : [];
  writeFileSync(
    conf,
    // `user root` when run as root: else mosquitto drops to its own user, which cannot read the 0700 temp dirs
    [...(process.getuid?.() === 0 ? ['user root'] : []), `listener ${port} 127.0.0.1`, ...tls, 'allow_anonymous true', 'persistence true', `persistence_location ${dir}/`, 'autosave_interval 0', 'max_queued_messages 0', 'log_dest stderr', 'log_type error', 'log_type warning', ''].join('\n'),
  );
  let log = '';
  let child: ChildProcess | undefined;
  const start = async () => {
    const c = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    await waitForPort(port, 5000).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}; mosquitto said:\n${log}`);
    });
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGTERM'); // mosquitto saves its persistence file on a clean exit
    await exited(c, 5000).catch(() => killChild(c));
  };
  await start();
  return {
    port,
    url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    stop,
    start,
    freeze: () => child?.kill('SIGSTOP'),
    thaw: () => child?.kill('SIGCONT'),
    dispose: async () => {
      child?.kill('SIGCONT');
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    output: () => log,
  };
}

// ── virtual time that can step timer by timer ────────────────────────────────
/** A VirtualClock that knows its next due timer, so a test can run async code between firings. */
export class SteppingClock extends VirtualClock {
  readonly #dues = new Map<number, number>();

  override setTimeout(fn: () => void, ms: number): TimerHandle {
    const due = this.now() + Math.max(0, ms);
    const handle = super.setTimeout(() => {
      this.#dues.delete(handle.id);
      fn();
    }, ms);
    this.#dues.set(handle.id, due);
    return handle;
  }

  override clearTimeout(handle: TimerHandle): void {
    this.#dues.delete(handle.id);
    super.clearTimeout(handle);
  }

  nextDue(): number | undefined {
    let min: number | undefined;
    for (const d of this.#dues.values()) if (min === undefined || d < min) min = d;
    return min;
  }

  /** Fires timers one at a time up to `to`, letting promise chains run after each. */
  async runUntil(to: number): Promise<void> {
    for (;;) {
      await settle();
      const next = this.nextDue();
      if (next === undefined || next > to) break;
      this.advanceTo(next);
    }
    this.advanceTo(to);
    await settle();
  }

  runFor(ms: number): Promise<void> {
    return this.runUntil(this.now() + ms);
  }
}
