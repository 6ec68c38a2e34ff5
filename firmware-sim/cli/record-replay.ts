/**
 * `weir sim record` and `weir sim replay`: NDJSON reading lines in the format
 * `weir rules replay` reads. Record takes a scenario (generated offline, no
 * broker) or a live gateway's republished readings; replay publishes a file.
 */
import { formatProblem } from '../../gateway/core/yaml-source.js';
import { SimError } from '../errors.js';
import { fileSink, recordMqtt, recordScenario } from '../record/record.js';
import { replayNdjson } from '../record/replay.js';
import { loadScenarioFile } from '../scenario/load.js';
import { parseCount, parseDurationOption, parseQos, parseSeed } from './options.js';
import type { SimIo } from './run-sim.js';

export interface RecordCommandOptions {
  readonly out: string;
  readonly scenario?: string;
  readonly mqtt?: string;
  readonly topic?: string;
  readonly seed?: string | number;
  readonly duration?: string;
  readonly count?: string | number;
  /** ISO 8601: where device clocks start in a scenario recording. */
  readonly start?: string;
}

export async function runSimRecord(o: RecordCommandOptions, io: SimIo): Promise<number> {
  try {
    if ((o.scenario === undefined) === (o.mqtt === undefined)) throw new SimError('BAD_OPTION', 'record needs exactly one of --scenario FILE (offline) and --mqtt URL (live)');
    const durationMs = o.duration === undefined ? undefined : parseDurationOption('--duration', o.duration);
    const out = fileSink(o.out);
    if (o.scenario !== undefined) {
      const seed = o.seed === undefined ? undefined : parseSeed(o.seed);
      const loaded = loadScenarioFile(o.scenario, { ...(seed !== undefined ? { seed } : {}), ...(durationMs !== undefined ? { durationMs } : {}) });
      if (!loaded.ok) {
        await out.close();
        for (const p of loaded.problems) io.stderr.write(`${formatProblem(p)}\n`);
        return 2;
      }
      if (loaded.plan.durationMs === undefined) throw new SimError('BAD_OPTION', 'a scenario recording needs a duration (in the file or --duration)');
      const start = o.start === undefined ? undefined : Date.parse(o.start);
      if (start !== undefined && Number.isNaN(start)) throw new SimError('BAD_OPTION', `--start ${JSON.stringify(o.start)} is not an ISO 8601 time`);
      const { lines } = await recordScenario(loaded.plan, out.sink, start === undefined ? {} : { startEpoch: start });
      await out.close();
      io.stderr.write(`recorded ${lines} readings of ${loaded.plan.devices.length} devices to ${o.out}\n`);
      return 0;
    }
    const { lines, skipped } = await recordMqtt(
      {
        url: o.mqtt!,
        ...(o.topic !== undefined ? { topic: o.topic } : {}),
        ...(durationMs !== undefined ? { durationMs } : {}),
        ...(o.count !== undefined ? { count: parseCount('--count', o.count, Number.MAX_SAFE_INTEGER) } : {}),
        signal: io.signal ?? interrupted(),
      },
      out.sink,
    );
    await out.close();
    io.stderr.write(`recorded ${lines} readings to ${o.out}${skipped ? ` (${skipped} messages were not reading records)` : ''}\n`);
    return 0;
  } catch (e) {
    io.stderr.write(`weir sim record: ${(e as Error).message}\n`);
    return 2;
  }
}

export interface ReplayCommandOptions {
  readonly events: string;
  readonly mqtt: string;
  readonly speed?: string | number;
  readonly qos?: string | number;
  readonly json?: boolean;
}

export async function runSimReplay(o: ReplayCommandOptions, io: SimIo): Promise<number> {
  try {
    const speed = o.speed === undefined || o.speed === 'max' ? 0 : Number(o.speed);
    if (!Number.isFinite(speed) || speed < 0) throw new SimError('BAD_OPTION', '--speed: a factor (1 = as recorded, 10 = ten times faster) or max');
    const r = await replayNdjson({ file: o.events, url: o.mqtt, speed, ...(o.qos !== undefined ? { qos: parseQos(o.qos) } : {}), signal: io.signal ?? interrupted() });
    for (const b of r.bad.slice(0, 20)) io.stderr.write(`${o.events}:${b.line}: ${b.reason}\n`);
    if (o.json) io.stdout.write(`${JSON.stringify({ lines: r.lines, badLines: r.bad.length, messages: r.messages, acknowledged: r.acknowledged, failed: r.failed })}\n`);
    else io.stdout.write(`replayed ${r.lines} readings as ${r.messages} messages: ${r.acknowledged} acknowledged, ${r.failed} failed, ${r.bad.length} bad lines skipped\n`);
    return r.failed > 0 ? 1 : 0;
  } catch (e) {
    io.stderr.write(`weir sim replay: ${(e as Error).message}\n`);
    return 2;
  }
}

function interrupted(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  return controller.signal;
}
