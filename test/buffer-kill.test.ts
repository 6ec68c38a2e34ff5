/**
 * kill -9 during appends: a child process appends with fsync `always` and
 * prints every acknowledged id; it is killed at random moments, round after
 * round, on the same buffer. After each kill the buffer must open and hold
 * every acknowledged id, in acknowledgement order, with no damage but at most
 * a torn tail.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { open, tempDir } from './buffer-fixtures.js';
import { readRecord } from '../gateway/core/record-reader.js';
import type { BufferedRecord } from '../gateway/core/contracts.js';

const root = resolve(import.meta.dirname, '..');
// Compiled next to node_modules so the child resolves its packages; outside dist/, which others build.
const outDir = join(root, 'node_modules', '.cache', 'weir-buffer-kill');
const childJs = join(outDir, 'test', 'buffer-kill-child.js');
const ROUNDS = 10;

beforeAll(async () => {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const flags = ['--outDir', outDir, '--rootDir', root, '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2023', '--strict', '--skipLibCheck', '--types', 'node'];
  await promisify(execFile)(process.execPath, [tsc, ...flags, join(root, 'test', 'buffer-kill-child.ts')], { cwd: root });
  expect(existsSync(childJs)).toBe(true);
}, 120_000);

/** Runs the child until it has acknowledged about `after` records (or for at most 3 s), then SIGKILLs it. */
function runAndKill(dir: string, round: number, after: number): Promise<string[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [childJs, dir, String(round)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let acked = 0;
    const kill = () => child.kill('SIGKILL');
    const cap = setTimeout(kill, 3000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      acked += d.toString().split('\n').length - 1;
      if (acked >= after) kill();
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(cap);
      if (signal !== 'SIGKILL') return reject(new Error(`child exited ${code} ${signal}: ${err}`));
      const lines = out.split('\n');
      if (lines.shift() !== 'ready') return reject(new Error(`child never got ready: ${out} ${err}`));
      // the last line may be half-printed at the kill: only whole lines count as acknowledged
      resolvePromise(lines.slice(0, -1));
    });
  });
}

describe('buffer: kill -9 during appends', () => {
  it(`keeps every acknowledged record, in order, over ${ROUNDS} kills`, async () => {
    const t = tempDir();
    const acknowledged: string[] = [];
    let tornTails = 0;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const after = 20 + Math.floor(Math.random() * 3000);
        acknowledged.push(...(await runAndKill(t.dir, round, after)));
        const buf = await open(t.dir, { sinks: ['a'] });
        try {
          const s = buf.stats();
          expect(s.recovery.corruptRegions).toBe(0);
          tornTails += s.recovery.tornTails;
          const all: BufferedRecord[] = [];
          for (let next = 0n; ; ) {
            const batch = await buf.read('a', 10_000, { from: next });
            if (batch.length === 0) break;
            all.push(...batch);
            next = batch[batch.length - 1]!.offset + 1n;
          }
          for (const b of all) expect(readRecord(b.record).ok).toBe(true);
          const present = all.map((b) => b.record.id);
          // acknowledged ids, in the order they were acknowledged, are a subsequence of the log
          const position = new Map(present.map((id, i) => [id, i]));
          let last = -1;
          for (const id of acknowledged) {
            const at = position.get(id);
            expect(at, `acknowledged ${id} missing after round ${round}`).toBeDefined();
            expect(at!).toBeGreaterThan(last);
            last = at!;
          }
          expect(all.map((b) => b.offset)).toEqual(all.map((_, i) => BigInt(i)));
        } finally {
          await buf.close();
        }
      }
      expect(acknowledged.length).toBeGreaterThan(ROUNDS * 10);
      console.log(`kill -9: ${ROUNDS} rounds, ${acknowledged.length} acknowledged records, all present; torn tails cut: ${tornTails}`);
    } finally {
      t.dispose();
    }
  }, 120_000);
});
