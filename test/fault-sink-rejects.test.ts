/**
 * A sink that rejects a batch (issue 4, fault tests): an InfluxDB write
 * endpoint (a local HTTP server) answers 400 with a message to any batch
 * holding a poison value and 204 to the rest. The poison batch lands in
 * dataDir/dead-letter/<sink>.ndjson with the server's reason; everything else
 * flows on and arrives, and nothing is in both places or in neither.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from './lib/gateway.js';
import { client, eventually } from './lib/mqtt.js';
import { forwardingStatus, metricSamples, publishQos1, seqMessages, sinkStatus, startInfluxCapture, type InfluxCapture } from './lib/fault-peers.js';
import type { DeadLetterLine } from '../gateway/forward/dead-letter.js';

const DEVICES = ['d0', 'd1', 'd2'];
const READINGS = 1000;
const POISON = [137, 555, 556, 901]; // 555 and 556 likely share a batch; 901 comes near the end
const POISON_MESSAGE = 'partial write: field type conflict: input field "value" on measurement "seq" is type string, already exists as type float';

let gw: TestGateway | undefined;
let upstream: InfluxCapture | undefined;
afterAll(async () => {
  await gw?.dispose();
  await upstream?.close();
});

describe('a sink that rejects a batch (HTTP 400)', () => {
  it('dead-letters the poison batches with the reason and delivers the rest', async () => {
    upstream = await startInfluxCapture();
    upstream.answer = (points) =>
      points.some((p) => p.measurement === 'seq' && POISON.includes(Number(p.fields.value)))
        ? { status: 400, body: JSON.stringify({ code: 'invalid', message: POISON_MESSAGE }) }
        : { status: 204 };
    gw = await startTestGateway(
      [
        'ingest: { republish: { enabled: false } }',
        `sinks: [{ kind: influxdb, name: tsdb, url: '${upstream.url}', org: o, bucket: b, delivery: { batchSize: 25, linger: 5ms } }]`,
      ].join('\n'),
    );
    const httpUrl = gw.httpUrl;
    const pub = await client(gw.mqttUrl, { clientId: 'rejects-pub' });
    expect((await publishQos1(pub, seqMessages(DEVICES, 0, READINGS), 20)).acked.length).toBe(READINGS);
    await pub.endAsync();
    await eventually(async () => (await forwardingStatus(httpUrl)).buffer.perSink.tsdb!.lag === 0, 10_000, 'every record settled');

    const file = join(gw.dir, 'data', 'dead-letter', 'tsdb.ndjson');
    const dead = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as DeadLetterLine);
    const deadValues = dead.map((l) => (l.record as { value: number }).value);
    const delivered = upstream.accepted.filter((p) => p.measurement === 'seq').map((p) => Number(p.fields.value));
    const rejectedRequests = upstream.requests.filter((r) => r.status === 400);

    // each poison value is in the dead-letter file with the server's reason, never upstream
    for (const v of POISON) expect(deadValues).toContain(v);
    for (const l of dead) {
      expect(l).toMatchObject({ sink: 'tsdb', reason: `HTTP 400: ${POISON_MESSAGE}` });
      expect(l.offset).toMatch(/^\d+$/);
      expect(Date.parse(l.deadAt)).not.toBeNaN();
    }
    // whole batches: exactly the records of the rejected requests, each sent once (a 400 is not retried)
    expect(deadValues.sort((a, b) => a - b)).toEqual(rejectedRequests.flatMap((r) => r.points.map((p) => Number(p.fields.value))).sort((a, b) => a - b));
    expect(rejectedRequests.length).toBeLessThanOrEqual(POISON.length);
    // the rest flowed on: every other reading arrived, none twice, none both places
    expect(new Set(delivered).size).toBe(delivered.length);
    expect(delivered.filter((v) => deadValues.includes(v))).toEqual([]);
    expect(delivered.length + deadValues.length).toBe(READINGS);
    expect(Math.max(...delivered)).toBe(READINGS - 1); // readings after the last poison batch arrived
    for (const d of DEVICES) {
      const seqs = upstream.accepted.filter((p) => p.measurement === 'seq' && p.tags.device === d).map((p) => Number(p.fields.value));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }

    const status = await sinkStatus(httpUrl, 'tsdb');
    expect(status).toMatchObject({
      circuit: 'closed', // a rejection is an answer: the upstream is up
      retries: 0,
      rejected: { records: dead.length, batches: rejectedRequests.length },
      deadLetter: { file, records: dead.length, dropped: 0 },
      delivered: { records: delivered.length },
    });
    const deadMetric = await metricSamples(httpUrl, 'weir_forward_dead_letter_records_total');
    expect(deadMetric).toEqual([{ labels: { sink: 'tsdb' }, value: dead.length }]);
    const rejectedBatches = (await metricSamples(httpUrl, 'weir_forward_batches_total')).find((s) => s.labels.outcome === 'rejected');
    expect(rejectedBatches?.value).toBe(rejectedRequests.length);
    console.info(`sink rejects: ${rejectedRequests.length} batches (${dead.length} records) dead-lettered with the reason, ${delivered.length} delivered, 0 lost`);
  }, 30_000);
});
