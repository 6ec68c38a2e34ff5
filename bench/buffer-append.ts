/**
 * Buffer append and replay throughput, per fsync policy. Two layers:
 *   raw     blocking write + fdatasync with no buffer code: this machine's floor, same run
 *   log     the segment log alone, 100-byte payloads (the storage engine's ceiling)
 *   buffer  the RecordBuffer with real reading records (JSON encoding, group commit, budget)
 * Seeded, each case bounded by --seconds and a record cap, run --runs times;
 * the median run is reported (the machine is shared: single runs are noisy).
 *
 *   node dist/bench/buffer-append.js [--seconds 0.6] [--runs 3] [--seed 42] [--dir /tmp] [--out file.md]
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { ReadingRecord } from '../gateway/core/records.js';
import { openBuffer } from '../gateway/buffer/open.js';
import { bufferConfig } from '../gateway/buffer/config.js';
import { SegmentLog, type Encoded } from '../gateway/buffer/log.js';
import { HEADER_BYTES, KIND_READING } from '../gateway/buffer/frame.js';
import { seededRandom } from './harness/payloads.js';

const { values: a } = parseArgs({
  options: {
    seconds: { type: 'string', default: '0.6' },
    runs: { type: 'string', default: '3' },
    seed: { type: 'string', default: '42' },
    dir: { type: 'string', default: tmpdir() },
    out: { type: 'string' },
  },
});
const SECONDS = Number(a.seconds);
const MAX_RECORDS = 5_000_000;
const silent = pino({ level: 'silent' });
const random = seededRandom(Number(a.seed));

interface Row {
  layer: string;
  policy: string;
  batch: string;
  records: number;
  seconds: number;
  bytes: number;
  fsyncs: number;
}
let rows: Row[] = [];

function payload100(): Buffer {
  const v = (random() * 100).toFixed(3);
  const head = `{"device":"dev-${Math.floor(random() * 50)}","temp":${v},"pad":"`;
  return Buffer.from(head + 'x'.repeat(100 - head.length - 2) + '"}');
}

function readingRecord(n: number): ReadingRecord {
  const ts = 1_760_000_000_000 + n;
  return { v: 1, kind: 'reading', id: `gw-1-${n}`, device: `dev-${Math.floor(random() * 50)}`, metric: 'temp', value: Math.round(random() * 10_000) / 100, ts, receivedAt: ts, source: 'mqtt:embedded', tags: {} };
}

async function logCase(policy: 'always' | 'interval', batch: number): Promise<void> {
  const dir = mkdtempSync(join(a.dir!, 'weir-bench-log-'));
  const { log } = await SegmentLog.open(dir, { readOnly: false, floor: 0, log: silent });
  const items: Encoded[] = Array.from({ length: batch }, () => {
    const payload = payload100();
    return { kind: KIND_READING, payload, length: payload.length };
  });
  const until = performance.now() + SECONDS * 1000;
  let records = 0;
  let lastSync = performance.now();
  const start = performance.now();
  while (performance.now() < until && records < MAX_RECORDS) {
    await log.append(items, Date.now(), policy === 'always', 64 * 1024 * 1024);
    records += batch;
    if (policy === 'interval' && performance.now() - lastSync >= 50) (lastSync = performance.now()), await log.sync();
  }
  await log.sync();
  const seconds = (performance.now() - start) / 1000;
  rows.push({ layer: 'log', policy: policy === 'always' ? 'always' : 'interval 50ms', batch: String(batch), records, seconds, bytes: log.bytesWritten, fsyncs: log.fsyncs });
  await log.close();
  rmSync(dir, { recursive: true, force: true });
}

/** The machine's floor in the same run: blocking write + fdatasync of pre-framed bytes, no buffer code at all. */
async function rawCase(batch: number): Promise<void> {
  const dir = mkdtempSync(join(a.dir!, 'weir-bench-raw-'));
  const fd = openSync(join(dir, 'raw'), 'w');
  const image = Buffer.alloc(batch * (100 + HEADER_BYTES), 0x61);
  const until = performance.now() + SECONDS * 1000;
  let records = 0;
  let fsyncs = 0;
  const start = performance.now();
  while (performance.now() < until && records < MAX_RECORDS) {
    writeSync(fd, image);
    fdatasyncSync(fd);
    fsyncs++;
    records += batch;
  }
  const seconds = (performance.now() - start) / 1000;
  closeSync(fd);
  rows.push({ layer: 'raw fs, blocking calls', policy: 'always', batch: String(batch), records, seconds, bytes: records * (100 + HEADER_BYTES), fsyncs });
  rmSync(dir, { recursive: true, force: true });
}

/** `inFlight` appends of `batch` records each are kept outstanding (many devices awaiting PUBACK). */
async function bufferCase(policy: 'always' | 'interval', batch: number, inFlight: number): Promise<void> {
  const dir = mkdtempSync(join(a.dir!, 'weir-bench-buf-'));
  const config = bufferConfig({ maxBytes: '4GiB', segmentSize: '64MiB', fsync: { policy, interval: '50ms' } });
  const buffer = await openBuffer({ dir, config, sinks: ['replay'], log: silent });
  const until = performance.now() + SECONDS * 1000;
  let n = 0;
  const start = performance.now();
  const worker = async () => {
    while (performance.now() < until && n < MAX_RECORDS) {
      const records = Array.from({ length: batch }, () => readingRecord(n++));
      await buffer.append(records);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - start) / 1000;
  const s = buffer.stats();
  rows.push({ layer: 'buffer', policy: policy === 'always' ? 'always' : 'interval 50ms', batch: inFlight > 1 ? `${batch} x ${inFlight} in flight` : String(batch), records: s.records, seconds, bytes: s.bytesWritten, fsyncs: s.fsyncs });
  if (policy === 'always' && batch === 256) await replay(buffer, s.records, s.bytes);
  await buffer.close();
  rmSync(dir, { recursive: true, force: true });
}

/** Reads everything back for one sink in batches of 1000, acking each (page cache warm). */
async function replay(buffer: Awaited<ReturnType<typeof openBuffer>>, records: number, bytes: number): Promise<void> {
  const start = performance.now();
  let got = 0;
  for (;;) {
    const batch = await buffer.read('replay', 1000);
    if (batch.length === 0) break;
    got += batch.length;
    await buffer.ack('replay', batch[batch.length - 1]!.offset);
  }
  if (got !== records) throw new Error(`replay read ${got} of ${records}`);
  rows.push({ layer: 'buffer replay', policy: '-', batch: 'read 1000 + ack', records: got, seconds: (performance.now() - start) / 1000, bytes, fsyncs: 0 });
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const load = () => loadavg()[0]!.toFixed(1);
const loadBefore = load();

const cases: (() => Promise<void>)[] = [
  () => rawCase(1),
  () => rawCase(256),
  () => rawCase(4096),
  () => logCase('always', 1),
  () => logCase('always', 256),
  () => logCase('always', 4096),
  () => logCase('interval', 1),
  () => logCase('interval', 256),
  () => bufferCase('always', 1, 1),
  () => bufferCase('always', 1, 1000),
  () => bufferCase('always', 256, 1),
  () => bufferCase('interval', 1, 1),
  () => bufferCase('interval', 1, 1000),
  () => bufferCase('interval', 256, 1),
];
const runs: Row[][] = [];
for (let r = 0; r < Number(a.runs); r++) {
  rows = [];
  for (const c of cases) await c();
  runs.push(rows);
}
// per row, the run with the median rate
rows = runs[0]!.map((_, i) => {
  const sorted = runs.map((run) => run[i]!).sort((x, y) => x.records / x.seconds - y.records / y.seconds);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
});

const lines = [
  `**Buffer append and replay, ${SECONDS} s per case, median of ${a.runs} runs, seed ${a.seed}, Node ${process.version}** (bytes include the 28-byte frame header)`,
  '',
  '| layer | fsync | append batch | records/s | MB/s written | bytes/record | fsyncs | records/fsync |',
  '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map((r) =>
    `| ${r.layer} | ${r.policy} | ${r.batch} | ${fmt(r.records / r.seconds)} | ${(r.bytes / r.seconds / 1e6).toFixed(1)} | ${Math.round(r.bytes / r.records)} | ${r.fsyncs ? fmt(r.fsyncs) : '-'} | ${r.fsyncs ? fmt(r.records / r.fsyncs) : '-'} |`,
  ),
  '',
  `raw and log rows: 100-byte payloads (${100 + HEADER_BYTES} bytes a frame). buffer rows: reading records as JSON. ` +
    `1-minute load average ${loadBefore} before, ${load()} after, on ${cpus().length} cores.`,
];
process.stdout.write(`${lines.join('\n')}\n`);
if (a.out) writeFileSync(a.out, `${lines.join('\n')}\n`);
