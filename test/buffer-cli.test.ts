/** `weir buffer stats` and `weir buffer inspect` on a stopped gateway's data dir and beside a running buffer. */
import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { alert, open, reading, tempDir } from './buffer-fixtures.js';
import { runBufferInspect, runBufferStats } from '../gateway/buffer/cli.js';
import { bufferDir } from '../gateway/buffer/open.js';

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

async function dataDirWithRecords(): Promise<string> {
  const t = tempDir();
  cleanup.push(t.dispose);
  const buf = await open(bufferDir(t.dir), { sinks: ['kafka', 'influx'] });
  await buf.append([reading(1, 'boiler'), reading(2, 'boiler'), alert(3, 'boiler'), reading(4, 'pump')]);
  await buf.ack('kafka', 2n);
  await buf.close();
  return t.dir;
}

describe('weir buffer stats / inspect', () => {
  it('stats: records, segments, damage and a line per sink with cursor and lag', async () => {
    const dataDir = await dataDirWithRecords();
    const out = capture();
    expect(await runBufferStats(dataDir, out.stream)).toBe(0);
    const text = out.text();
    expect(text).toMatch(/records\s+4 \(1 alerts\) in 1 segment\(s\)/);
    expect(text).toMatch(/damage\s+none found/);
    expect(text).toMatch(/^kafka\s+3\s+1\s+\d+s$/m);
    expect(text).toMatch(/^influx\s+0\s+4\s+\d+s$/m);
  });

  it('inspect: what is queued for one sink, and for all with who still needs it', async () => {
    const dataDir = await dataDirWithRecords();
    const one = capture();
    expect(await runBufferInspect(dataDir, { sink: 'kafka' }, one.stream)).toBe(0);
    expect(one.text()).toContain('sink kafka: cursor 3, 1 record(s) queued');
    expect(one.text()).toMatch(/^3\s+\S+Z\s+reading\s+gw-1-4\s+pump temperature=24$/m);
    const all = capture();
    expect(await runBufferInspect(dataDir, { limit: 3 }, all.stream)).toBe(0);
    expect(all.text()).toMatch(/^0\s+\S+\s+reading\s+gw-1-1\s+boiler temperature=21\s+influx$/m);
    expect(all.text()).toMatch(/^2\s+\S+\s+alert\s+gw-1-a3\s+too-hot raise critical boiler: hot 3\s+influx$/m);
    expect(all.text()).not.toContain('gw-1-4');
    const err = capture();
    expect(await runBufferInspect(dataDir, { sink: 'nope' }, capture().stream, err.stream)).toBe(1);
    expect(err.text()).toContain('no sink "nope"');
  });

  it('works beside a running buffer: no lock taken, a tail being written is not damage', async () => {
    const t = tempDir();
    cleanup.push(t.dispose);
    const buf = await open(bufferDir(t.dir), { sinks: ['kafka'] });
    cleanup.push(() => buf.close());
    await buf.append([reading(1), reading(2)]);
    // half a frame at the end, as if caught mid-write
    const segs = join(bufferDir(t.dir), 'segments');
    appendFileSync(join(segs, readdirSync(segs)[0]!), Buffer.from([9, 9, 9, 9, 0x52, 0x57, 1, 1, 200, 0, 0, 0]));
    const out = capture();
    expect(await runBufferStats(t.dir, out.stream)).toBe(0);
    expect(out.text()).toMatch(/records\s+2 /);
    expect(out.text()).toMatch(/damage\s+none found/);
    const inspect = capture();
    expect(await runBufferInspect(t.dir, { sink: 'kafka' }, inspect.stream)).toBe(0);
    expect(inspect.text()).toContain('gw-1-2');
  });

  it('says so when the data dir has no buffer yet', async () => {
    const t = tempDir();
    cleanup.push(t.dispose);
    const out = capture();
    expect(await runBufferStats(t.dir, out.stream)).toBe(0);
    expect(out.text()).toContain('no buffer at');
  });
});
