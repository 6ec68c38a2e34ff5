/**
 * `weir sim`: a scenario file or the quick form, run against a broker (and
 * ptys), with a live view on a terminal and a summary at the end. Exit codes:
 * 0 done, 1 messages were sent but none acknowledged, 2 bad input or setup.
 */
import { formatProblem, type Problem } from '../../gateway/core/yaml-source.js';
import { SimError } from '../errors.js';
import { startFleet, type Fleet } from '../run/fleet.js';
import { loadScenarioFile } from '../scenario/load.js';
import type { SimPlan } from '../scenario/plan.js';
import { parseCount, parseDurationOption, parseQos, parseRate, parseSeed } from './options.js';
import { MAX_RATE_PER_DEVICE, quickPlan } from './quick.js';
import { summaryJson, summaryText, type RunInfo } from './summary.js';
import { LiveView, type ViewTarget } from './view.js';

export interface SimCommandOptions {
  readonly scenario?: string;
  readonly mqtt?: string;
  readonly serial?: string;
  readonly seed?: string | number;
  readonly duration?: string;
  readonly json?: boolean;
  /** Quick form. */
  readonly devices?: string | number;
  readonly rate?: string;
  readonly profile?: string;
  readonly qos?: string | number;
  readonly connections?: string | number;
  /** Topic to measure publish-to-receive latency on (`weir/readings/+`). */
  readonly watch?: string;
}

export interface SimIo {
  readonly stdout: ViewTarget;
  readonly stderr: ViewTarget;
  /** Aborting ends the run early, as Ctrl-C does; without one, SIGINT and SIGTERM do. */
  readonly signal?: AbortSignal;
  /** Told once the fleet runs (tests and embedders). */
  readonly onStarted?: (fleet: Fleet) => void;
}

export async function runSim(options: SimCommandOptions, io: SimIo): Promise<number> {
  let prepared: { plan: SimPlan; targetRate: number | undefined };
  const warnings: string[] = [];
  try {
    const p = prepare(options, warnings);
    if ('problems' in p) {
      for (const problem of p.problems) io.stderr.write(`${formatProblem(problem)}\n`);
      return 2;
    }
    prepared = p;
  } catch (e) {
    return usage(io, e);
  }
  const { plan, targetRate } = prepared;
  for (const w of warnings) io.stderr.write(`weir sim: ${w}\n`);
  let fleet: Fleet;
  try {
    fleet = await startFleet(plan, {
      ...(options.mqtt !== undefined ? { mqttUrl: options.mqtt } : {}),
      ...(options.serial !== undefined ? { serialPath: options.serial } : {}),
      ...(options.watch !== undefined ? { watch: options.watch } : {}),
      ...(targetRate !== undefined ? { targetRate } : {}),
    });
  } catch (e) {
    return usage(io, e);
  }
  io.onStarted?.(fleet);
  const info: RunInfo = { scenario: plan.name, seed: plan.seed, durationMs: plan.durationMs, serialPaths: Object.fromEntries(fleet.serialPaths) };
  // the gateway needs these paths in its serial: section before the devices can be heard, so they come
  // first and on stderr even with --json (whose one object arrives only at the end)
  for (const [device, path] of fleet.serialPaths) io.stderr.write(`serial device ${device}: the gateway opens ${path}\n`);
  const view = options.json ? undefined : new LiveView(io.stderr, `weir sim ${plan.name}  seed ${plan.seed}  ${plan.devices.length} devices`, plan.durationMs, () => fleet.stats());
  view?.start();
  const final = await untilDone(fleet, io.signal);
  view?.stop();
  io.stdout.write(options.json ? summaryJson(info, final) : summaryText(info, final));
  return final.messages.sent > 0 && final.messages.acknowledged === 0 ? 1 : 0;
}

function prepare(o: SimCommandOptions, warnings: string[]): { plan: SimPlan; targetRate: number | undefined } | { problems: Problem[] } {
  const seed = o.seed === undefined ? undefined : parseSeed(o.seed);
  const durationMs = o.duration === undefined ? undefined : parseDurationOption('--duration', o.duration);
  if (o.scenario !== undefined) {
    if (o.devices !== undefined || o.rate !== undefined) throw new SimError('BAD_OPTION', '--devices and --rate are the quick form; a scenario file says how many devices send how often');
    const loaded = loadScenarioFile(o.scenario, { ...(seed !== undefined ? { seed } : {}), ...(durationMs !== undefined ? { durationMs } : {}) });
    if (!loaded.ok) return { problems: [...loaded.problems] };
    const plan = o.qos === undefined ? loaded.plan : { ...loaded.plan, mqtt: { ...loaded.plan.mqtt, qos: parseQos(o.qos) } };
    return { plan, targetRate: undefined };
  }
  if (o.devices === undefined) throw new SimError('BAD_OPTION', 'give --scenario FILE, or --devices N (with --rate R/s) for the quick form');
  const quick = quickPlan({
    devices: parseCount('--devices', o.devices),
    rate: parseRate(o.rate ?? '1/s/device'),
    ...(o.profile !== undefined ? { profile: o.profile } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(o.qos !== undefined ? { qos: parseQos(o.qos) } : {}),
    ...(o.connections !== undefined ? { connections: parseCount('--connections', o.connections) } : {}),
  });
  if (!quick.plan) return { problems: quick.problems };
  const perDevice = quick.targetRate / quick.plan.devices.length;
  if (perDevice > MAX_RATE_PER_DEVICE) warnings.push(`--rate asks ${Math.round(perDevice)} msg/s of each device; one device sends at most ${MAX_RATE_PER_DEVICE}/s, so use more --devices`);
  return { plan: quick.plan, targetRate: quick.targetRate };
}

async function untilDone(fleet: Fleet, signal: AbortSignal | undefined): Promise<Awaited<Fleet['finished']>> {
  const stop = () => void fleet.stop();
  if (signal) signal.addEventListener('abort', stop, { once: true });
  else {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  try {
    return await fleet.finished;
  } finally {
    signal?.removeEventListener('abort', stop);
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}

function usage(io: SimIo, e: unknown): number {
  if (e instanceof SimError) {
    io.stderr.write(`weir sim: ${e.message} (${e.code})\n`);
    return 2;
  }
  io.stderr.write(`weir sim: ${e instanceof Error ? e.message : String(e)}\n`);
  return 2;
}
