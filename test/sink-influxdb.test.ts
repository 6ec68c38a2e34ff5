/**
 * The InfluxDB sink without InfluxDB: line protocol encoding and escaping, and
 * failure classification against a real local HTTP server that answers like
 * InfluxDB does when it is busy, throttling, refusing a batch, or fine.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Value } from '@sinclair/typebox/value';
import { encodeAlert, encodeReading, type LineMapping } from '../gateway/sinks/influxdb/line-protocol.js';
import { InfluxdbSink } from '../gateway/sinks/influxdb/influxdb-sink.js';
import { InfluxdbSinkConfig } from '../gateway/sinks/influxdb/config.js';
import { classifyWrite } from '../gateway/sinks/influxdb/http-outcome.js';
import { parseRetryAfter } from '../gateway/forward/retry-after.js';
import { SystemClock } from '../gateway/core/clock.js';
import { Forwarder } from '../gateway/forward/forwarder.js';
import { deliverySettings } from '../gateway/forward/config.js';
import { MemoryBuffer, alert, reading } from './lib/forwarding.js';
import { freePort } from './lib/processes.js';
import { eventually } from './lib/mqtt.js';

const TS = 1_800_000_000_123;
const mapping: LineMapping = {
  gateway: 'gw',
  measurement: (r) => r.metric,
  field: () => 'value',
  alertMeasurement: 'weir_alert',
  tags: { line: 'L1' },
};

describe('line protocol', () => {
  it('maps a reading to measurement = metric, sorted tags, one float field and a ms timestamp', () => {
    const r = reading('d1', 21.5, TS, { unit: '°C', tags: { site: 'plant 1', 'zone,a': 'x=y' } });
    expect(encodeReading(r, mapping)).toBe('temp,device=d1,gateway=gw,line=L1,site=plant\\ 1,unit=°C,zone\\,a=x\\=y value=21.5 1800000000123');
  });

  it('writes integers as floats, booleans as booleans and strings quoted and escaped', () => {
    expect(encodeReading(reading('d', 3, TS), mapping)).toMatch(/ value=3 /);
    expect(encodeReading(reading('d', false, TS), mapping)).toMatch(/ value=false /);
    expect(encodeReading(reading('d', 'say "hi" \\o/', TS), mapping)).toMatch(/ value="say \\"hi\\" \\\\o\/" /);
  });

  it('escapes measurement, tag and field names so no value can split or break a line', () => {
    const r = reading('dev ice,1', 1, TS, { metric: 'a,b c=d', tags: { 'k\\': 'v\n2', empty: '' } });
    const line = encodeReading(r, mapping);
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toBe('a\\,b\\ c=d,device=dev\\ ice\\,1,gateway=gw,k\\\\=v\\n2,line=L1 value=1 1800000000123');
  });

  it('renames the keys InfluxDB would silently drop a point for', () => {
    expect(encodeReading(reading('d', 1, TS, { tags: { time: 'noon', _field: 'x' } }), mapping)).toBe('temp,device=d,gateway=gw,line=L1,tag__field=x,tag_time=noon value=1 1800000000123');
  });

  it('keeps device and gateway tags from being overridden by record tags', () => {
    expect(encodeReading(reading('d1', 1, TS, { tags: { device: 'spoof', gateway: 'spoof' } }), mapping)).toContain('device=d1,gateway=gw,');
  });

  it('writes flags as a field, so a replayed point overwrites the one it repeats', () => {
    expect(encodeReading(reading('d', 1, TS, { flags: ['replay'] }), mapping)).toMatch(/^temp,[^ ]+ value=1,flags="replay" 1800000000123$/);
  });

  it('maps an alert to weir_alert with rule, key, severity and device tags and typed value fields', () => {
    const a = alert('overheat', TS, { value: 81.5, message: 'too "hot"' });
    expect(encodeAlert(a, mapping)).toBe(
      'weir_alert,device=d1,gateway=gw,key=d1,line=L1,rule=overheat,severity=critical state="raise",active=true,message="too \\"hot\\"",value=81.5 1800000000123',
    );
    expect(encodeAlert(alert('door', TS, { state: 'clear', value: 'open' }), mapping)).toMatch(/active=false,message="door fired",value_str="open" /);
  });
});

describe('Retry-After', () => {
  it('reads delay-seconds and HTTP dates, clamped to an hour', () => {
    const now = Date.parse('2027-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Fri, 01 Jan 2027 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('999999', now)).toBe(3_600_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('classifies statuses: 2xx delivered, 408/429/5xx retried, auth and not-found retried, other 4xx rejected', () => {
    const kinds = [200, 204, 408, 429, 500, 503, 401, 403, 404, 400, 413, 422].map((s) => [s, classifyWrite(s, null, '', 0).kind]);
    expect(kinds).toEqual([
      [200, 'delivered'],
      [204, 'delivered'],
      [408, 'retry'],
      [429, 'retry'],
      [500, 'retry'],
      [503, 'retry'],
      [401, 'retry'],
      [403, 'retry'],
      [404, 'retry'],
      [400, 'rejected'],
      [413, 'rejected'],
      [422, 'rejected'],
    ]);
  });
});

interface Captured {
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A real HTTP server that answers each write from a script and keeps what it got. */
async function fakeInflux(answers: ((res: import('node:http').ServerResponse) => void)[]) {
  const got: Captured[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      got.push({ url: req.url ?? '', headers: req.headers, body: (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString() });
      const answer = answers.shift() ?? ((r) => r.writeHead(204).end());
      answer(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const close = () => new Promise<void>((r) => (server.close(() => r()), server.closeAllConnections()));
  return { url: `http://127.0.0.1:${port}`, got, close };
}

const config = (url: string, extra: Record<string, unknown> = {}) =>
  Value.Default(InfluxdbSinkConfig, { kind: 'influxdb', name: 'influx', url, org: 'acme', bucket: 'plant', token: 's3cret', ...extra }) as InfluxdbSinkConfig;

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('the sink against a real HTTP server', () => {
  it('posts gzip line protocol to /api/v2/write with org, bucket, ms precision and the token', async () => {
    const server = await fakeInflux([]);
    cleanup.push(server.close);
    const sink = new InfluxdbSink(config(server.url), { gatewayId: 'gw', clock: new SystemClock() });
    expect(await sink.deliver([reading('d1', 1.5, TS), alert('hot', TS)])).toEqual({ kind: 'delivered' });
    const req = server.got[0]!;
    expect(req.url).toBe('/api/v2/write?org=acme&bucket=plant&precision=ms');
    expect(req.headers).toMatchObject({ authorization: 'Token s3cret', 'content-encoding': 'gzip', 'content-type': 'text/plain; charset=utf-8' });
    expect(req.body.split('\n')).toEqual(['temp,device=d1,gateway=gw value=1.5 1800000000123', expect.stringMatching(/^weir_alert,/), '']);
  });

  it('answers 503 + Retry-After, 429, 400 with a message, and 204 as retry, retry, rejected, delivered', async () => {
    const server = await fakeInflux([
      (r) => r.writeHead(503, { 'retry-after': '2' }).end('{"code":"unavailable","message":"shutting down"}'),
      (r) => r.writeHead(429).end(),
      (r) => r.writeHead(400, { 'content-type': 'application/json' }).end('{"code":"invalid","message":"unable to parse \'temp value=\': missing field value"}'),
      (r) => r.writeHead(204).end(),
    ]);
    cleanup.push(server.close);
    const sink = new InfluxdbSink(config(server.url, { gzip: false }), { gatewayId: 'gw', clock: new SystemClock() });
    const batch = [reading('d1', 1, TS)];
    expect(await sink.deliver(batch)).toEqual({ kind: 'retry', reason: 'HTTP 503: shutting down', afterMs: 2000 });
    expect(await sink.deliver(batch)).toEqual({ kind: 'retry', reason: 'HTTP 429: (no message)' });
    expect(await sink.deliver(batch)).toEqual({ kind: 'rejected', reason: "HTTP 400: unable to parse 'temp value=': missing field value" });
    expect(await sink.deliver(batch)).toEqual({ kind: 'delivered' });
    expect(server.got[0]!.headers['content-encoding']).toBeUndefined();
  });

  it('retries when nothing listens, when the server is too slow, and on a redirect it will not follow', async () => {
    const port = await freePort();
    const down = new InfluxdbSink(config(`http://127.0.0.1:${port}`), { gatewayId: 'gw', clock: new SystemClock() });
    expect(await down.deliver([reading('d1', 1, TS)])).toEqual({ kind: 'retry', reason: 'InfluxDB unreachable: ECONNREFUSED' });

    const slow = await fakeInflux([(r) => setTimeout(() => r.writeHead(204).end(), 1500)]);
    cleanup.push(slow.close);
    const sink = new InfluxdbSink(config(slow.url, { timeout: '200ms' }), { gatewayId: 'gw', clock: new SystemClock() });
    expect(await sink.deliver([reading('d1', 1, TS)])).toEqual({ kind: 'retry', reason: 'InfluxDB unreachable: request timed out' });

    const moved = await fakeInflux([(r) => r.writeHead(307, { location: '/elsewhere' }).end()]);
    cleanup.push(moved.close);
    const redirected = new InfluxdbSink(config(moved.url), { gatewayId: 'gw', clock: new SystemClock() });
    expect((await redirected.deliver([reading('d1', 1, TS)])).kind).toBe('rejected');
  });

  it('rejects a batch holding a value line protocol cannot carry, naming the record', async () => {
    const sink = new InfluxdbSink(config('http://127.0.0.1:9'), { gatewayId: 'gw', clock: new SystemClock() });
    const r = reading('d1', Number.NaN, TS);
    expect(await sink.deliver([r])).toEqual({ kind: 'rejected', reason: `record ${r.id} has a value line protocol cannot carry (NaN)` });
  });

  it('through the delivery loop: the 400 batch lands in the dead-letter file, the rest arrives in order', async () => {
    const server = await fakeInflux([
      (r) => r.writeHead(503, { 'retry-after': '0' }).end(),
      (r) => r.writeHead(429).end(),
      (r) => r.writeHead(400).end('{"code":"invalid","message":"field type conflict"}'),
    ]);
    cleanup.push(server.close);
    const dataDir = mkdtempSync(join(tmpdir(), 'weir-influx-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const clock = new SystemClock();
    const buffer = new MemoryBuffer();
    const sink = new InfluxdbSink(config(server.url), { gatewayId: 'gw', clock });
    const forwarder = new Forwarder({
      buffer,
      sinks: [{ sink, settings: deliverySettings({ batchSize: 2, backoffMin: '10ms', backoffMax: '50ms', linger: '0ms' }) }],
      dataDir,
      clock,
      log: pino({ level: 'silent' }),
    });
    const now = Date.now();
    const records = [0, 1, 2, 3, 4, 5].map((v) => reading('d1', v, now + v));
    await buffer.append(records);
    forwarder.start();
    await eventually(() => buffer.cursor('influx') === 6n, 5000, 'everything settled');
    await forwarder.stop();
    // attempts: 503, 429 (same batch twice more), then 400 on that batch; the next two batches 204
    expect(server.got[1]!.body).toContain('flags="replay"');
    const bodies = server.got.map((g) => g.body.trim().split('\n').map((l) => Number(/ value=([^, ]+)/.exec(l)?.[1])));
    expect(bodies).toEqual([[0, 1], [0, 1], [0, 1], [2, 3], [4, 5]]);
    const dead = readFileSync(join(dataDir, 'dead-letter', 'influx.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { reason: string; record: { value: number } });
    expect(dead.map((d) => [d.reason, d.record.value])).toEqual([
      ['HTTP 400: field type conflict', 0],
      ['HTTP 400: field type conflict', 1],
    ]);
    expect(forwarder.status()[0]).toMatchObject({ name: 'influx', circuit: 'closed', retries: 2, rejected: { records: 2 }, delivered: { records: 4 } });
  });
});
