/**
 * Child process for the kill -9 test: appends readings to a buffer with fsync
 * policy `always`, several appends in flight, and prints each record id once
 * its append has resolved (stdout to a pipe is synchronous on Linux, so a
 * printed id was acknowledged before the process could be killed).
 *
 *   node buffer-kill-child.js DIR ROUND
 */
import { pino } from 'pino';
import { openBuffer } from '../gateway/buffer/open.js';
import { bufferConfig } from '../gateway/buffer/config.js';
import type { ReadingRecord } from '../gateway/core/records.js';

const [dir, round] = process.argv.slice(2);
const buffer = await openBuffer({
  dir: dir!,
  config: bufferConfig({ segmentSize: '64KiB', maxBytes: '64MiB', fsync: { policy: 'always' } }),
  sinks: ['a'],
  log: pino({ level: 'silent' }),
});
process.stdout.write('ready\n');

let seq = 0;
const record = (): ReadingRecord => {
  const n = seq++;
  return { v: 1, kind: 'reading', id: `r${round}-${n}`, device: `dev-${n % 7}`, metric: 'm', value: n, ts: n, receivedAt: n, source: 'kill-test', tags: {} };
};

async function producer(): Promise<never> {
  for (;;) {
    const batch = Array.from({ length: 1 + Math.floor(Math.random() * 20) }, record);
    await buffer.append(batch);
    process.stdout.write(`${batch.map((r) => r.id).join('\n')}\n`);
  }
}

await Promise.all(Array.from({ length: 8 }, producer));
