/**
 * Peers and probes for the gateway-level fault tests (test/fault-*.test.ts):
 * a QoS 1 publisher that counts PUBACKs, an upstream MQTT collector, a local
 * HTTP server speaking the InfluxDB v2 write API whose answers a test scripts,
 * /api/status and /metrics readers, and a reader of buffer segment frames
 * (docs/buffer.md "On disk") for tests that damage them on purpose.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { MqttClient } from 'mqtt';
import type { SinkStatus } from '../../gateway/forward/sink-status.js';
import type { BufferStats } from '../../gateway/core/contracts.js';

// ── publishing ───────────────────────────────────────────────────────────────
export interface Message {
  readonly topic: string;
  readonly payload: string;
}

/** `weir/{device}/telemetry` with `{"seq":n}` (the weir-json profile): one reading, metric `seq`, value n. */
export function seqMessage(device: string, seq: number, extra: Record<string, number> = {}): Message {
  return { topic: `weir/${device}/telemetry`, payload: JSON.stringify({ seq, ...extra }) };
}

/** `count` messages round-robin over `devices`, seq from `from`. */
export function seqMessages(devices: readonly string[], from: number, count: number): Message[] {
  return Array.from({ length: count }, (_, i) => seqMessage(devices[(from + i) % devices.length]!, from + i));
}

export interface PublishResult {
  /** Indexes into the messages that got a PUBACK. */
  readonly acked: number[];
  /** Indexes that were sent but got no PUBACK (the connection closed first, or the publish failed). */
  readonly unacked: number[];
  readonly closed: boolean;
}

/**
 * Publishes at QoS 1 with at most `window` in flight, until all are acknowledged
 * or the connection closes (MQTT.js never calls back publishes in flight when
 * the socket dies, so a close settles them as unacknowledged).
 */
export async function publishQos1(c: MqttClient, messages: readonly Message[], window = 50): Promise<PublishResult> {
  const acked: number[] = [];
  const unacked: number[] = [];
  let closed = false;
  let done = false;
  const inflight = new Map<number, Promise<void>>();
  const onClose = new Promise<void>((resolve) => c.once('close', () => ((closed = true), resolve())));
  let i = 0;
  for (; i < messages.length && !closed; i++) {
    const n = i;
    const m = messages[n]!;
    const p = new Promise<void>((resolve) =>
      c.publish(m.topic, m.payload, { qos: 1 }, (err) => {
        if (!done) (err ? unacked : acked).push(n);
        resolve();
      }),
    ).finally(() => inflight.delete(n));
    inflight.set(n, p);
    if (inflight.size >= window) await Promise.race([...inflight.values(), onClose]);
  }
  await Promise.race([Promise.all(inflight.values()), onClose]);
  // still in flight when the connection closed: never acknowledged
  for (const n of inflight.keys()) unacked.push(n);
  done = true;
  return { acked: acked.sort((a, b) => a - b), unacked: unacked.sort((a, b) => a - b), closed };
}

// ── the upstream side ────────────────────────────────────────────────────────
export interface Arrival {
  readonly at: number;
  readonly kind: 'reading' | 'alert';
  readonly id: string;
  readonly device: string;
  readonly metric?: string;
  readonly value: unknown;
  readonly flags: readonly string[];
  readonly rule?: string;
  readonly record: Record<string, unknown>;
}

/** Records as the MQTT bridge sends them (one JSON record per message), in arrival order. */
export function collectRecords(c: MqttClient): Arrival[] {
  const out: Arrival[] = [];
  c.on('message', (_topic, payload) => {
    const r = JSON.parse(payload.toString()) as Record<string, unknown>;
    out.push(asArrival(r));
  });
  return out;
}

export function asArrival(r: Record<string, unknown>, at = Date.now()): Arrival {
  return {
    at,
    kind: r.kind as 'reading' | 'alert',
    id: String(r.id),
    device: String(r.device),
    ...(typeof r.metric === 'string' ? { metric: r.metric } : {}),
    value: r.value,
    flags: Array.isArray(r.flags) ? (r.flags as string[]) : [],
    ...(typeof r.rule === 'string' ? { rule: r.rule } : {}),
    record: r,
  };
}

/** Index of the first arrival matching `pred`, or -1. */
export function firstIndex(arrivals: readonly Arrival[], pred: (a: Arrival) => boolean): number {
  return arrivals.findIndex(pred);
}

/** Per device, the values of first arrivals in arrival order (duplicates after the first dropped). */
export function firstArrivalsByDevice(arrivals: readonly Arrival[], metric = 'seq'): Map<string, number[]> {
  const seen = new Set<string>();
  const by = new Map<string, number[]>();
  for (const a of arrivals) {
    if (a.kind !== 'reading' || a.metric !== metric || seen.has(a.id)) continue;
    seen.add(a.id);
    const list = by.get(a.device) ?? [];
    list.push(a.value as number);
    by.set(a.device, list);
  }
  return by;
}

/** How many arrivals repeat an id that arrived before. */
export function duplicateCount(arrivals: readonly Arrival[]): number {
  return arrivals.length - new Set(arrivals.map((a) => a.id)).size;
}

export const isIncreasing = (xs: readonly number[]) => xs.every((x, i) => i === 0 || xs[i - 1]! < x);

// ── the gateway's own window ─────────────────────────────────────────────────
export interface ForwardingStatus {
  readonly buffer: BufferStats;
  readonly sinks: SinkStatus[];
}

export async function forwardingStatus(httpUrl: string): Promise<ForwardingStatus> {
  const s = (await (await fetch(`${httpUrl}/api/status`)).json()) as { forwarding: ForwardingStatus | null };
  if (!s.forwarding) throw new Error('/api/status has no forwarding section');
  return s.forwarding;
}

export async function sinkStatus(httpUrl: string, sink: string): Promise<SinkStatus> {
  const s = (await forwardingStatus(httpUrl)).sinks.find((x) => x.name === sink);
  if (!s) throw new Error(`/api/status shows no sink ${sink}`);
  return s;
}

/** Every sample of a metric family from /metrics, with its labels. */
export async function metricSamples(httpUrl: string, name: string): Promise<{ labels: Record<string, string>; value: number }[]> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

// ── an InfluxDB v2 write endpoint with scripted answers ──────────────────────
export interface LinePoint {
  readonly measurement: string;
  readonly tags: Record<string, string>;
  readonly fields: Record<string, string>;
  readonly ts: number;
}

export interface WriteAnswer {
  readonly status: number;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

export interface InfluxCapture {
  readonly url: string;
  /** Points of every write answered 2xx, in arrival order. */
  readonly accepted: LinePoint[];
  /** Every request: its points and the status it got. */
  readonly requests: { points: LinePoint[]; status: number }[];
  /** Decides each answer; the default accepts everything with 204. */
  answer: (points: LinePoint[]) => WriteAnswer;
  close(): Promise<void>;
}

/**
 * A real HTTP server on loopback for the InfluxDB sink: it gunzips and parses
 * the line protocol weir sends (enough of it for weir's own output: no escaped
 * spaces in tag values of the tests), and answers what `answer` says.
 */
export async function startInfluxCapture(): Promise<InfluxCapture> {
  const capture: InfluxCapture = {
    url: '',
    accepted: [],
    requests: [],
    answer: () => ({ status: 204 }),
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const points = parseLines(body.toString('utf8'));
      const a = capture.answer(points);
      capture.requests.push({ points, status: a.status });
      if (a.status >= 200 && a.status < 300) capture.accepted.push(...points);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end(a.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(capture, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}

/** `measurement,k=v,k=v f=v,f="s" ts` lines; splits on unescaped spaces and commas outside quotes. */
export function parseLines(text: string): LinePoint[] {
  const out: LinePoint[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const parts = splitOutsideQuotes(line, ' ');
    const [head, fieldText, ts] = parts as [string, string, string];
    const [measurement, ...tagPairs] = splitOutsideQuotes(head, ',');
    const tags: Record<string, string> = {};
    for (const p of tagPairs) {
      const [k, v] = splitOnce(p);
      tags[unescape(k)] = unescape(v);
    }
    const fields: Record<string, string> = {};
    for (const p of splitOutsideQuotes(fieldText, ',')) {
      const [k, v] = splitOnce(p);
      fields[unescape(k)] = v.startsWith('"') ? v.slice(1, -1).replace(/\\(["\\])/g, '$1') : v;
    }
    out.push({ measurement: unescape(measurement ?? ''), tags, fields, ts: Number(ts) });
  }
  return out;
}

function splitOutsideQuotes(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted) (out.push(cur), (cur = ''));
    else cur += c;
  }
  out.push(cur);
  return out;
}

function splitOnce(pair: string): [string, string] {
  for (let i = 0; i < pair.length; i++) {
    if (pair[i] === '\\') i++;
    else if (pair[i] === '=') return [pair.slice(0, i), pair.slice(i + 1)];
  }
  return [pair, ''];
}

const unescape = (s: string) => s.replace(/\\(.)/g, '$1');

// ── buffer segment frames (docs/buffer.md) ───────────────────────────────────
export interface DiskFrame {
  /** Position of the frame in the file. */
  readonly at: number;
  readonly size: number;
  readonly offset: number;
  readonly kind: number;
  readonly record: Record<string, unknown>;
}

const HEADER = 28;

/** The frames of an undamaged segment file, in file order (no checksum check: the test wrote them). */
export function readFrames(file: string): DiskFrame[] {
  const buf = readFileSync(file);
  const out: DiskFrame[] = [];
  for (let at = 0; at + HEADER <= buf.length; ) {
    if (buf.readUInt16LE(at + 4) !== 0x5752) throw new Error(`${file}: no frame magic at ${at}`);
    const length = buf.readUInt32LE(at + 8);
    const offset = buf.readUInt32LE(at + 12) + buf.readUInt32LE(at + 16) * 0x1_0000_0000;
    const record = JSON.parse(buf.subarray(at + HEADER, at + HEADER + length).toString('utf8')) as Record<string, unknown>;
    out.push({ at, size: HEADER + length, offset, kind: buf[at + 7]!, record });
    at += HEADER + length;
  }
  return out;
}
