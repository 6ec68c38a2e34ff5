/**
 * Scenario files are checked like weir.yaml: every problem at once, each at
 * file:line:col, from the schema (unknown keys, bad durations, unknown signal
 * kinds) and from planning (unknown profiles, selectors that match nothing).
 */
import { describe, expect, it } from 'vitest';
import { formatProblem } from '../gateway/core/yaml-source.js';
import { loadScenarioText, type LoadResult } from '../firmware-sim/scenario/load.js';

const FILE = '/tmp/scenario.yaml';

function problems(yaml: string): string[] {
  const r: LoadResult = loadScenarioText(FILE, yaml);
  if (r.ok) throw new Error('expected problems');
  return r.problems.map(formatProblem);
}

describe('scenario schema', () => {
  it('reports schema errors at their line and column, all at once', () => {
    const yaml = [
      'duration: 5 minutes', //                                  1
      'fleet:', //                                               2
      '  - profile: weir-json', //                               3
      '    count: 0', //                                         4
      '    colour: red', //                                      5
      '    metrics:', //                                         6
      '      temperature: [{ kind: sinus, period: 1m }]', //     7
      '      humidity: [{ kind: walk, min: 0, max: 1 }]', //     8
      'timeline:', //                                            9
      '  - { at: soon, kind: silence }', //                      10
      '  - { at: 10s, kind: oversized, size: big }', //          11
    ].join('\n');
    expect(problems(yaml)).toEqual([
      `${FILE}:1:11: duration: "5 minutes" does not match a duration such as 500ms, 30s, 5m, 1h`,
      `${FILE}:4:12: fleet.0.count: expected integer to be greater or equal to 1`,
      `${FILE}:5:5: fleet.0.colour: unknown key`,
      `${FILE}:7:29: fleet.0.metrics.temperature.0.kind: unknown kind "sinus"; expected one of constant, sine, walk, noise, step, ramp, spikes, drift, stuck, quantize, clamp, square`,
      `${FILE}:8:18: fleet.0.metrics.humidity.0.step: is required`,
      `${FILE}:10:11: timeline.0.at: "soon" does not match a duration such as 500ms, 30s, 5m, 1h`,
      `${FILE}:11:39: timeline.1.size: "big" does not match a size such as 512B, 256KiB, 64MiB`,
    ]);
  });

  it('reports planning problems at the value that causes them', () => {
    const yaml = [
      'duration: 1m', //                                                   1
      'fleet:', //                                                         2
      '  - profile: no-such-profile', //                                   3
      '  - profile: weir-json', //                                         4
      '    id: gh-{n}', //                                                 5
      '  - profile: tasmota-plug', //                                      6
      '    metrics: { temperature: [{ kind: constant, value: 1 }] }', //   7
      '  - profile: weir-json', //                                         8
      '    name: zone-a', //                                               9
      '    count: 2', //                                                   10
      '    metrics: { t: [{ kind: constant, value: 1 }] }', //             11
      'timeline:', //                                                      12
      '  - { at: 10s, kind: silence, devices: zone-b }', //                13
      '  - { at: 20s, kind: ramp, devices: zone-a, metric: rh, to: 9, over: 5s }', // 14
      '  - { at: 2m, kind: malformed }', //                                15
      '  - { at: 5s, kind: burst, devices: zone-a }', //                   16
      '  - { at: 5s, kind: corrupt, mode: checksum, devices: zone-a }', // 17
    ].join('\n');
    const got = problems(yaml);
    expect(got).toEqual([
      expect.stringMatching(new RegExp(`^${FILE}:3:14: fleet.0.profile: no device profile is named "no-such-profile" \\(known: .*weir-json.*\\)$`)),
      `${FILE}:5:9: fleet.1.id: unknown placeholder {n}; use {i}, {i:02} or {name}`,
      `${FILE}:7:29: fleet.2.metrics.temperature: profile tasmota-plug does not carry a metric "temperature" (it has power, voltage, current, power_factor, energy_today, energy_total)`,
      `${FILE}:13:40: timeline.0.devices: "zone-b" matches no device`,
      `${FILE}:14:53: timeline.1.metric: device zone-a-01 has no metric "rh"`,
      `${FILE}:15:11: timeline.2.at: the run ends at 60000 ms, before this happens`,
      `${FILE}:16:5: timeline.3: a burst needs exactly one of count and factor`,
      `${FILE}:17:36: timeline.4.mode: none of these devices sends a checksum`,
    ]);
  });

  it('a profile file with a problem is reported in that file; a missing one where the scenario names it', () => {
    const r = loadScenarioText(FILE, 'profileFiles: [does-not-exist.yaml]\nfleet:\n  - { profile: weir-json, metrics: { t: [{ kind: constant, value: 1 }] } }\n');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map(formatProblem)[0]).toMatch(new RegExp(`^${FILE}:1:16: profileFiles.0: cannot read file`));
  });

  it('a valid scenario plans every device with ids, cadence and variation drawn from the seed', () => {
    const yaml = 'seed: 3\nfleet:\n  - { name: zone-b, profile: weir-json, count: 12, id: "gh-{i:02}", cadence: 2s, metrics: { t: [{ kind: constant, value: 1 }] }, variation: { offset: 1 } }\n';
    const a = loadScenarioText(FILE, yaml);
    const b = loadScenarioText(FILE, yaml);
    if (!a.ok || !b.ok) throw new Error('invalid');
    expect(a.plan.devices.map((d) => d.id)).toEqual(Array.from({ length: 12 }, (_, i) => `gh-${String(i + 1).padStart(2, '0')}`));
    expect(a.plan.devices.every((d) => d.cadenceMs === 2000 && d.jitterMs === 100 && d.transport === 'mqtt' && d.group === 'zone-b')).toBe(true);
    expect(a.plan.devices.map((d) => [d.offset, d.firstAtMs])).toEqual(b.plan.devices.map((d) => [d.offset, d.firstAtMs]));
    expect(new Set(a.plan.devices.map((d) => d.offset)).size).toBe(12);
    expect(a.plan.devices.every((d) => Math.abs(d.offset) <= 1)).toBe(true);
    expect(a.plan.devices[6]!.phase).toBe(0.5); // spread: device 7 of 12 is half a period on
  });
});
