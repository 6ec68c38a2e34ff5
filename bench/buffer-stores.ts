/**
 * Why the buffer is its own segment log: the same durable workload on each
 * storage candidate. 100-byte records, every append batch durable before the
 * next (fsync per batch), then a sequential replay of everything.
 *
 *   segment log  write + fdatasync per batch, CRC per record
 *   LevelDB      classic-level (already a dependency), batch with { sync: true }
 *   SQLite       better-sqlite3 in WAL mode, synchronous=FULL, one transaction
 *                per batch; only if importable (WEIR_BENCH_SQLITE=path/to/better-sqlite3)
 *
 * Cases run interleaved, --runs rounds, and the median round is reported: on
 * a shared machine, load shifts between consecutive cases.
 *
 *   node dist/bench/buffer-stores.js [--seconds 1] [--runs 3] [--seed 42] [--dir /tmp]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { ClassicLevel } from 'classic-level';
import { SegmentLog, type Encoded } from '../gateway/buffer/log.js';
import { KIND_READING } from '../gateway/buffer/frame.js';
import { seededRandom } from './harness/payloads.js';

const { values: a } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1' },
    runs: { type: 'string', default: '3' },
    seed: { type: 'string', default: '42' },
    dir: { type: 'string', default: tmpdir() },
  },
});
const SECONDS = Number(a.seconds);
const MAX_RECORDS = 2_000_000;
const random = seededRandom(Number(a.seed));
const payloads = Array.from({ length: 256 }, () => {
  const head = `{"device":"dev-${Math.floor(random() * 50)}","temp":${(random() * 100).toFixed(3)},"pad":"`;
  return Buffer.from(head + 'x'.repeat(100 - head.length - 2) + '"}');
});

interface Store {
  name: string;
  append(batch: readonly Buffer[]): Promise<void>;
  replay(): Promise<number>;
  close(): Promise<void>;
}

async function segmentLog(dir: string): Promise<Store> {
  const { log } = await SegmentLog.open(dir, { readOnly: false, floor: 0, log: pino({ level: 'silent' }) });
  return {
    name: 'segment log',
    append: (batch) => log.append(batch.map((payload): Encoded => ({ kind: KIND_READING, payload, length: payload.length })), Date.now(), true, 64 * 1024 * 1024),
    replay: async () => {
      let n = 0;
      for (const seg of log.segments) await log.scanFrom(seg, 0, () => (n++, true));
      return n;
    },
    close: () => log.close(),
  };
}

async function levelDb(dir: string): Promise<Store> {
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  let next = 0n;
  const key = (n: bigint) => {
    const k = Buffer.allocUnsafe(8);
    k.writeBigUInt64BE(n);
    return k;
  };
  return {
    name: 'LevelDB (classic-level, sync)',
    append: (batch) => db.batch(batch.map((value) => ({ type: 'put' as const, key: key(next++), value })), { sync: true }),
    replay: async () => {
      let n = 0;
      for await (const entry of db.iterator()) if (entry) n++;
      return n;
    },
    close: () => db.close(),
  };
}

interface SqliteDb {
  pragma(text: string): unknown;
  exec(sql: string): void;
  prepare(sql: string): { run(...args: unknown[]): unknown; iterate(): Iterable<unknown> };
  transaction(fn: (batch: readonly Buffer[]) => void): (batch: readonly Buffer[]) => void;
  close(): void;
}

async function sqlite(dir: string): Promise<Store | undefined> {
  let Database: new (file: string) => SqliteDb;
  try {
    const specifier: string = process.env.WEIR_BENCH_SQLITE ?? 'better-sqlite3';
    Database = ((await import(specifier)) as { default: new (file: string) => SqliteDb }).default;
  } catch {
    return undefined;
  }
  const db = new Database(join(dir, 'buffer.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE records (offset INTEGER PRIMARY KEY, kind INTEGER NOT NULL, payload BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO records (kind, payload) VALUES (1, ?)');
  const write = db.transaction((batch: readonly Buffer[]) => {
    for (const p of batch) insert.run(p);
  });
  return {
    name: 'SQLite (better-sqlite3, WAL, synchronous=FULL)',
    append: async (batch) => write(batch),
    replay: async () => {
      let n = 0;
      for (const row of db.prepare('SELECT offset, payload FROM records ORDER BY offset').iterate()) if (row) n++;
      return n;
    },
    close: async () => db.close(),
  };
}

interface Result {
  name: string;
  batch: number;
  appendRate: number;
  replayRate: number;
  records: number;
}

async function measure(make: (dir: string) => Promise<Store | undefined>, batchSize: number): Promise<Result | undefined> {
  const dir = mkdtempSync(join(a.dir!, 'weir-bench-store-'));
  try {
    const store = await make(dir);
    if (!store) return undefined;
    const batch = payloads.slice(0, batchSize);
    const until = performance.now() + SECONDS * 1000;
    let records = 0;
    const start = performance.now();
    while (performance.now() < until && records < MAX_RECORDS) {
      await store.append(batch);
      records += batchSize;
    }
    const appendSeconds = (performance.now() - start) / 1000;
    const replayStart = performance.now();
    const replayed = await store.replay();
    const replaySeconds = (performance.now() - replayStart) / 1000;
    if (replayed !== records) throw new Error(`${store.name}: replayed ${replayed} of ${records}`);
    await store.close();
    return { name: store.name, batch: batchSize, appendRate: records / appendSeconds, replayRate: replayed / replaySeconds, records };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cases = [segmentLog, levelDb, sqlite].flatMap((make) => [1, 256].map((batch) => ({ make, batch })));
const results: (Result | undefined)[][] = cases.map(() => []);
for (let run = 0; run < Number(a.runs); run++) {
  for (const [i, c] of cases.entries()) results[i]!.push(await measure(c.make, c.batch));
}
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)]!;
const rows = cases.map((c, i) => {
  const got = results[i]!.filter((r): r is Result => r !== undefined);
  if (got.length === 0) return `| SQLite | ${c.batch} | not installed (set WEIR_BENCH_SQLITE) | | |`;
  return `| ${got[0]!.name} | ${c.batch} | ${fmt(median(got.map((r) => r.appendRate)))} | ${fmt(median(got.map((r) => r.replayRate)))} | ${fmt(median(got.map((r) => r.records)))} |`;
});

process.stdout.write(
  [
    `**Storage candidates, durable appends of 100-byte records (fsync per batch), ${SECONDS} s per case, then replay of everything; median of ${a.runs} interleaved rounds; Node ${process.version}, load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores**`,
    '',
    '| store | batch | appends records/s | replay records/s | records |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
  ].join('\n'),
);
