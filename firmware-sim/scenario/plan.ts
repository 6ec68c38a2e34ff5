/**
 * A validated scenario becomes a plan: every device with its id, profile,
 * transport, cadence and signals; every timeline entry with the devices it
 * hits. Per-device variation is drawn here, from the seed, so the plan is a
 * pure function of the file and the seed. Problems a schema cannot see (an
 * unknown profile, a selector that matches nothing) come back located.
 */
import { isAbsolute, resolve } from 'node:path';
import { parseDuration } from '../../gateway/core/units.js';
import type { Problem } from '../../gateway/core/yaml-source.js';
import type { DeviceProfile } from '../../devices/profiles/schema.js';
import { createFormat } from '../encode/format.js';
import { expandId, globMatcher, unknownPlaceholders } from '../fleet/id-template.js';
import { defaultSignal } from '../model/defaults.js';
import type { ProfileCatalog } from '../model/profiles.js';
import { NMEA_DEFAULT_SIGNALS } from '../encode/nmea.js';
import { fork, uniform } from '../random.js';
import type { SignalStep } from '../signals/schema.js';
import { parseJitter } from './common.js';
import type { SimEvent } from './events.js';
import type { FleetEntry, MqttSettings, Scenario } from './schema.js';

export type TransportKind = 'mqtt' | 'serial' | 'gpio';

export interface DeviceSpec {
  readonly id: string;
  /** The fleet entry's name (or its profile's). */
  readonly group: string;
  /** Position inside its fleet entry, from 0. */
  readonly index: number;
  readonly profile: DeviceProfile;
  readonly transport: TransportKind;
  readonly cadenceMs: number;
  readonly jitterMs: number;
  /** First message, ms after the start. */
  readonly firstAtMs: number;
  /** Every metric the device measures, each with its signal. */
  readonly metrics: Readonly<Record<string, readonly SignalStep[]>>;
  readonly decimals: number;
  readonly phase: number;
  readonly offset: number;
  readonly timestamps: boolean;
  readonly serialPath?: string;
  readonly gpioPin?: number;
}

export interface PlannedEvent {
  /** Position in the timeline, for located messages and per-entry counts. */
  readonly index: number;
  readonly event: SimEvent;
  readonly atMs: number;
  readonly forMs: number | undefined;
  readonly devices: readonly string[];
}

export interface SimPlan {
  readonly name: string;
  readonly seed: number | string;
  readonly durationMs: number | undefined;
  /** Epoch ms device clocks start at; undefined = the wall clock at start. */
  readonly startEpoch: number | undefined;
  readonly mqtt: MqttSettings;
  readonly serialDir: string | undefined;
  readonly devices: readonly DeviceSpec[];
  readonly timeline: readonly PlannedEvent[];
}

export interface PlanContext {
  readonly file: string;
  readonly baseDir: string;
  readonly catalog: ProfileCatalog;
  readonly locate?: (path: readonly (string | number)[]) => { line: number; col: number };
  readonly seed?: number | string;
  readonly durationMs?: number;
}

export function planScenario(s: Scenario, ctx: PlanContext): { plan?: SimPlan; problems: Problem[] } {
  const problems: Problem[] = [];
  const at = (path: readonly (string | number)[], message: string) =>
    problems.push({ file: ctx.file, ...(ctx.locate?.(path) ?? { line: 1, col: 1 }), message: `${path.join('.')}: ${message}` });
  const seed = ctx.seed ?? s.seed ?? 1;
  const durationMs = ctx.durationMs ?? (s.duration === undefined ? undefined : parseDuration(s.duration));
  let startEpoch: number | undefined;
  if (s.start !== undefined) {
    startEpoch = Date.parse(s.start);
    if (Number.isNaN(startEpoch)) at(['start'], `${JSON.stringify(s.start)} is not an ISO 8601 time`);
  }

  const devices: DeviceSpec[] = [];
  const seen = new Map<string, number>();
  s.fleet.forEach((entry, f) => {
    for (const d of planEntry(entry, f, seed, (path, message) => at(['fleet', f, ...path], message), ctx.catalog)) {
      if (seen.has(d.id)) at(['fleet', f, 'id'], `device id ${d.id} is also made by fleet entry ${seen.get(d.id)}`);
      else seen.set(d.id, f), devices.push(d);
    }
  });

  const timeline: PlannedEvent[] = [];
  s.timeline.forEach((event, i) => {
    // a --duration shorter than the file's timeline cuts the run short; only the file's own duration is checked
    const fileDurationMs = s.duration === undefined ? undefined : parseDuration(s.duration);
    const planned = planEvent(event, i, devices, fileDurationMs, (path, message) => at(['timeline', i, ...path], message));
    if (planned) timeline.push(planned);
  });
  timeline.sort((a, b) => a.atMs - b.atMs || a.index - b.index);

  if (problems.length > 0) return { problems };
  const mqtt = resolveTlsPaths(s.mqtt, ctx.baseDir);
  return {
    plan: { name: s.name ?? 'scenario', seed, durationMs, startEpoch, mqtt, serialDir: s.serial.dir && resolve(ctx.baseDir, s.serial.dir), devices, timeline },
    problems,
  };
}

type Report = (path: readonly (string | number)[], message: string) => void;

function planEntry(entry: FleetEntry, f: number, seed: number | string, report: Report, catalog: ProfileCatalog): DeviceSpec[] {
  const profile = catalog.get(entry.profile);
  if (!profile) {
    report(['profile'], `no device profile is named ${JSON.stringify(entry.profile)} (known: ${catalog.names().join(', ')})`);
    return [];
  }
  const transport: TransportKind = entry.transport ?? (profile.transport?.kind === 'serial' ? 'serial' : profile.transport?.kind === 'gpio' ? 'gpio' : 'mqtt');
  if (transport === 'mqtt' && profile.topic === undefined) return report(['transport'], `profile ${profile.name} has no topic, so it cannot be sent over MQTT`), [];
  if (transport === 'gpio') {
    if (profile.transport?.kind !== 'gpio') return report(['transport'], `profile ${profile.name} is not a GPIO device`), [];
    if (profile.transport.direction === 'out') return report(['profile'], `profile ${profile.name} is an output: the gateway drives it, a device does not`), [];
    if (entry.gpio === undefined) return report([], 'GPIO devices need `gpio: { pin }`'), [];
  }
  if (transport === 'serial' && entry.serial !== undefined && entry.count > 1 && !entry.serial.path.includes('{device}')) {
    return report(['serial', 'path'], 'several devices cannot share one port path; put {device} in it'), [];
  }
  const name = entry.name ?? profile.name;
  const template = entry.id ?? '{name}-{i:02}';
  const unknown = unknownPlaceholders(template);
  if (unknown.length > 0) return report(['id'], `unknown placeholder {${unknown[0]}}; use {i}, {i:02} or {name}`), [];

  const metrics = metricsFor(profile, entry, report);
  if (!metrics) return [];
  const cadenceMs = parseDuration(entry.cadence ?? profile.cadence ?? '10s');
  if (cadenceMs <= 0) return report(['cadence'], 'must be longer than 0'), [];
  const jitterMs = parseJitter(entry.variation.jitter ?? '5%', cadenceMs);
  const out: DeviceSpec[] = [];
  for (let k = 0; k < entry.count; k++) {
    const id = expandId(template, { i: entry.first + k, name });
    const rng = fork(seed, id, 'variation');
    const phase = entry.variation.phase === 'random' ? rng() : entry.variation.phase === 'none' ? 0 : k / entry.count;
    const offsetMax = entry.variation.offset ?? 0;
    const offset = offsetMax > 0 ? uniform(rng, -offsetMax, offsetMax) : 0;
    const start = entry.variation.start ?? 'random';
    const firstAtMs = Math.round(start === 'together' ? 0 : start === 'spread' ? (k / entry.count) * cadenceMs : rng() * cadenceMs);
    const signals: Record<string, SignalStep[]> = {};
    for (const m of metrics) signals[m] = entry.metrics?.[m] ?? defaultSignal(profile, m, cadenceMs);
    out.push({
      id,
      group: name,
      index: k,
      profile,
      transport,
      cadenceMs,
      jitterMs: Math.min(jitterMs, cadenceMs * 0.9),
      firstAtMs,
      metrics: signals,
      decimals: entry.decimals,
      phase,
      offset,
      timestamps: entry.timestamps,
      ...(entry.serial ? { serialPath: entry.serial.path.replaceAll('{device}', id) } : {}),
      ...(entry.gpio ? { gpioPin: entry.gpio.pin + k } : {}),
    });
  }
  return out;
}

/** The metrics a device of this profile sends: what its format needs, what the profile lists, what the scenario adds. */
function metricsFor(profile: DeviceProfile, entry: FleetEntry, report: Report): string[] | undefined {
  const d = profile.decoder;
  const given = Object.keys(entry.metrics ?? {});
  const required = [...createFormat(profile).required];
  const listed = Object.keys(profile.metrics ?? {});
  let closed: string[] | undefined;
  if (d.kind === 'nmea') closed = [...Object.keys(NMEA_DEFAULT_SIGNALS), 'pdop', 'vdop', 'fix_quality'];
  else if (d.kind === 'binary' || d.kind === 'csv' || (d.kind === 'json' && d.fields)) closed = required;
  else if (d.kind === 'value' && d.metric !== undefined) closed = [d.metric];
  else if (profile.only) closed = listed;
  let ok = true;
  for (const m of given) {
    if (closed && !closed.includes(m)) {
      report(['metrics', m], `profile ${profile.name} does not carry a metric ${JSON.stringify(m)} (it has ${closed.join(', ') || 'none'})`);
      ok = false;
    }
  }
  if (!ok) return undefined;
  const base = d.kind === 'nmea' ? Object.keys(NMEA_DEFAULT_SIGNALS) : closed ?? listed;
  const all = [...new Set([...required, ...base, ...given])];
  if (all.length === 0) return report(['metrics'], `profile ${profile.name} names no metrics; list what the devices measure under metrics:`), undefined;
  return all;
}

function planEvent(event: SimEvent, index: number, devices: readonly DeviceSpec[], durationMs: number | undefined, report: Report): PlannedEvent | undefined {
  const atMs = parseDuration(event.at);
  const forMs = event.for === undefined ? undefined : parseDuration(event.for);
  if (durationMs !== undefined && atMs >= durationMs) report(['at'], `the run ends at ${durationMs} ms, before this happens`);
  const selectors = event.devices === undefined ? ['all'] : Array.isArray(event.devices) ? event.devices : [event.devices];
  const hit = devices.filter((d) => selectors.some((sel) => sel === 'all' || sel === d.group || globMatcher(sel)(d.id)));
  if (hit.length === 0) return report(['devices'], `${JSON.stringify(event.devices)} matches no device`), undefined;
  switch (event.kind) {
    case 'burst':
      if ((event.count === undefined) === (event.factor === undefined)) return report([], 'a burst needs exactly one of count and factor'), undefined;
      if (event.factor !== undefined && forMs === undefined) return report(['for'], 'a burst with a factor needs a duration'), undefined;
      break;
    case 'skew':
      if ((event.offset === undefined) === (event.unset === undefined)) return report([], 'a skew needs exactly one of offset and unset'), undefined;
      break;
    case 'flap':
      if (forMs === undefined && durationMs === undefined) return report(['for'], 'flapping without an end needs a duration of the run or `for`'), undefined;
      break;
    case 'link-drop':
      if (hit.every((d) => d.transport === 'gpio')) return report(['devices'], 'GPIO devices have no link to drop'), undefined;
      break;
    case 'corrupt':
      if ((event.mode ?? 'bytes') === 'checksum' && !hit.some(hasChecksum)) return report(['mode'], 'none of these devices sends a checksum'), undefined;
      break;
    case 'stuck':
    case 'ramp':
    case 'set': {
      const missing = hit.find((d) => d.metrics[event.metric] === undefined);
      if (missing) return report(['metric'], `device ${missing.id} has no metric ${JSON.stringify(event.metric)}`), undefined;
      break;
    }
  }
  return { index, event, atMs, forMs, devices: hit.map((d) => d.id) };
}

function hasChecksum(d: DeviceSpec): boolean {
  return d.profile.decoder.kind === 'nmea' || (d.transport === 'serial' && d.profile.transport?.kind === 'serial' && d.profile.transport.checksum !== undefined);
}

function resolveTlsPaths(mqtt: MqttSettings, baseDir: string): MqttSettings {
  if (!mqtt.tls) return mqtt;
  const abs = (p: string | undefined) => (p === undefined || isAbsolute(p) ? p : resolve(baseDir, p));
  const tls = { ...mqtt.tls };
  for (const k of ['ca', 'cert', 'key'] as const) {
    const v = abs(tls[k]);
    if (v !== undefined) tls[k] = v;
  }
  return { ...mqtt, tls };
}
