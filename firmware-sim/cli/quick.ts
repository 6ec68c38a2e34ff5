/**
 * The quick form without a scenario file: `--devices 100 --rate 10/s` becomes a
 * one-entry scenario of weir-json climate sensors (or `--profile`'s devices),
 * planned through the same code as a file, so the load generator and the
 * scenarios cannot drift apart.
 */
import type { Problem } from '../../gateway/core/yaml-source.js';
import { ProfileCatalog } from '../model/profiles.js';
import { planScenario, type SimPlan } from '../scenario/plan.js';
import type { FleetEntry, Scenario } from '../scenario/schema.js';
import type { Rate } from './options.js';

export interface QuickOptions {
  readonly devices: number;
  readonly rate: Rate;
  readonly profile?: string;
  readonly seed?: number | string;
  readonly durationMs?: number;
  readonly qos?: 0 | 1 | 2;
  readonly connections?: number;
  readonly idTemplate?: string;
}

/** Cadences are whole milliseconds, so one device sends at most this often; more load needs more devices. */
export const MAX_RATE_PER_DEVICE = 1000;

export function quickPlan(o: QuickOptions): { plan?: SimPlan; problems: Problem[]; targetRate: number } {
  const perDevice = o.rate.perDevice ? o.rate.perSecond : o.rate.perSecond / o.devices;
  const cadenceMs = Math.max(1, Math.round(1000 / perDevice));
  const profile = o.profile ?? 'weir-json';
  const entry: FleetEntry = {
    name: 'sim',
    profile,
    count: o.devices,
    id: o.idTemplate ?? `sim-{i:0${String(o.devices).length}}`,
    first: 1,
    cadence: `${cadenceMs}ms`,
    decimals: 2,
    timestamps: true,
    // spread starts evenly: a fleet firing in lockstep is a different benchmark
    variation: { phase: 'spread', offset: 0.5, jitter: '2%', start: 'spread' },
    ...(profile === 'weir-json'
      ? {
          metrics: {
            temperature: [{ kind: 'sine', mean: 21, amplitude: 3, period: '10m' }, { kind: 'noise', stddev: 0.1 }],
            humidity: [{ kind: 'walk', min: 30, max: 70, step: 0.5 }],
          },
        }
      : {}),
  };
  const scenario: Scenario = {
    name: 'quick',
    seed: o.seed ?? 1,
    profileFiles: [],
    mqtt: { qos: o.qos ?? 1, clean: true, keepalive: '30s', clientId: 'sim-{device}', reconnect: { initial: '250ms', max: '10s' }, offline: 'queue', ...(o.connections ? { connections: o.connections } : {}) },
    serial: {},
    fleet: [entry],
    timeline: [],
  };
  const planned = planScenario(scenario, {
    file: '(command line)',
    baseDir: process.cwd(),
    catalog: ProfileCatalog.standard(),
    ...(o.durationMs !== undefined ? { durationMs: o.durationMs } : {}),
  });
  // the target is what was asked for: a cadence floored at 1 ms must show up as a rate not reached
  return { ...planned, targetRate: perDevice * o.devices };
}
