/**
 * A real IngestPipeline for device tests: serial and GPIO frames go through the
 * same routing, decoding, range checks and counters as MQTT ones; readings and
 * log lines are collected.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { IngestPipeline } from '../../gateway/ingest/pipeline.js';
import { Metrics } from '../../gateway/metrics/metrics.js';
import { RecordIds } from '../../gateway/core/record-ids.js';
import type { ReadingRecord } from '../../gateway/core/records.js';
import { ProfileRouter } from '../../devices/profiles/router.js';
import type { DeviceProfile } from '../../devices/profiles/schema.js';
import { loadProfileFiles } from '../../gateway/config/profile-files.js';

export const LIBRARY_DIR = join(import.meta.dirname, '../../devices/profiles/library');

/** The shipped profiles, loaded and validated as `profileFiles:` would. */
export function libraryProfiles(): DeviceProfile[] {
  const glob = (patterns: string[], o: { cwd: string }) => readdirSync(o.cwd).filter((f) => f.endsWith('.yaml') && patterns.some((p) => p === '*.yaml' || p === f)).map((f) => join(o.cwd, f));
  const r = loadProfileFiles(['*.yaml'], LIBRARY_DIR, {}, glob);
  if (r.problems.length) throw new Error(r.problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`).join('\n'));
  return r.profiles;
}

export interface TestPipeline {
  readonly pipeline: IngestPipeline;
  readonly metrics: Metrics;
  readonly readings: ReadingRecord[];
  readonly logs: { msg: string; code?: string; sample?: string; device?: string; suppressed?: number }[];
}

export function testPipeline(profiles: readonly DeviceProfile[]): TestPipeline {
  const readings: ReadingRecord[] = [];
  const logs: TestPipeline['logs'] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const metrics = new Metrics();
  const pipeline = new IngestPipeline({
    router: new ProfileRouter(profiles),
    ids: RecordIds.open('test', mkdtempSync(join(tmpdir(), 'weir-ids-'))),
    metrics,
    log: pino({ level: 'debug' }, sink),
    consumers: [(batch) => void readings.push(...batch)],
  });
  return { pipeline, metrics, readings, logs };
}
