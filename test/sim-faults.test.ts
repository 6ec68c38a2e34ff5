/**
 * Determinism and fault injection, offline: a fleet on a virtual clock with a
 * capture link, so each fault's effect on the bytes is checked exactly and
 * the same seed is shown to give the same bytes.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { MemoryGpioChip } from '../devices/gpio/memory-chip.js';
import { VirtualClock } from '../gateway/core/clock.js';
import { loadScenarioText } from '../firmware-sim/scenario/load.js';
import { generate } from '../firmware-sim/run/generate.js';
import { startFleet } from '../firmware-sim/run/fleet.js';
import type { Outgoing } from '../firmware-sim/fleet/device.js';
import type { SimPlan } from '../firmware-sim/scenario/plan.js';

const START = Date.UTC(2025, 5, 1);

function plan(yaml: string, seed?: number): SimPlan {
  const r = loadScenarioText('/tmp/faults.yaml', yaml, seed === undefined ? {} : { seed });
  if (!r.ok) throw new Error(r.problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('\n'));
  return r.plan;
}

async function capture(p: SimPlan): Promise<Outgoing[]> {
  const out: Outgoing[] = [];
  await generate(p, (m) => out.push(m), { startEpoch: START });
  return out;
}

const json = (m: Outgoing) => JSON.parse(m.bytes.toString()) as Record<string, number>;

const ONE = (timeline: string, extra = '') => `
duration: 10s
fleet:
  - { profile: weir-json, id: d1, cadence: 100ms, variation: { jitter: 0ms, start: together }, metrics: { t: [{ kind: ramp, to: 100, over: 10s }] } ${extra} }
timeline:
${timeline}
`;

describe('determinism', () => {
  const scenario = `
duration: 30s
fleet:
  - { profile: weir-json, count: 5, id: 'a-{i}', cadence: 250ms, metrics: { t: [{ kind: walk, min: 0, max: 9, step: 1 }, { kind: noise, stddev: 1 }] } }
  - { profile: tasmota-plug, count: 2, id: 'p-{i}', cadence: 1s }
  - { profile: nmea-gps, id: gps, cadence: 1s }
timeline:
  - { at: 5s, kind: duplicate, probability: 0.3, for: 5s }
  - { at: 8s, kind: out-of-order, probability: 0.5, for: 5s }
  - { at: 12s, kind: malformed, probability: 0.2, for: 5s }
  - { at: 15s, kind: corrupt, probability: 0.2, for: 5s }
`;
  const digest = (ms: Outgoing[]) => createHash('sha256').update(ms.map((m) => `${m.topic}\u0000${m.bytes.toString('base64')}`).join('\n')).digest('hex');

  it('the same seed gives the same bytes, message for message; another seed does not', async () => {
    const a = await capture(plan(scenario, 11));
    const b = await capture(plan(scenario, 11));
    const c = await capture(plan(scenario, 12));
    expect(a.length).toBeGreaterThan(600);
    expect(digest(a)).toBe(digest(b));
    expect(digest(a)).not.toBe(digest(c));
  });
});

describe('faults', () => {
  it('silence swallows a device\'s messages for its window and counts them', async () => {
    const out = await capture(plan(ONE('  - { at: 2s, kind: silence, for: 3s }')));
    const times = out.map((m) => m.sample.t);
    expect(times.some((t) => t >= 2000 && t < 5000)).toBe(false);
    expect(times.filter((t) => t >= 5000).length).toBe(50);
    expect(out.length).toBe(100 - 30);
  });

  it('duplicates repeat a message byte for byte', async () => {
    const out = await capture(plan(ONE('  - { at: 1s, kind: duplicate, for: 1s }')));
    const window = out.filter((m) => m.sample.t >= 1000 && m.sample.t < 2000);
    expect(window.length).toBe(20);
    for (let i = 0; i < 20; i += 2) expect(window[i]!.bytes.equals(window[i + 1]!.bytes)).toBe(true);
    expect(window.filter((m) => m.faults.includes('duplicate')).length).toBe(10);
  });

  it('out-of-order swaps messages without losing any: the ts sequence goes backwards', async () => {
    const out = await capture(plan(ONE('  - { at: 1s, kind: out-of-order, for: 2s }')));
    const ts = out.map((m) => json(m).ts!);
    expect(new Set(ts).size).toBe(100);
    const backwards = ts.filter((t, i) => i > 0 && t < ts[i - 1]!).length;
    expect(backwards).toBe(10);
    expect([...ts].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => START + i * 100));
  });

  it('skew: an unset clock stamps 1970, an offset shifts the device time', async () => {
    const out = await capture(plan(ONE('  - { at: 2s, kind: skew, unset: true, for: 1s }\n  - { at: 5s, kind: skew, offset: -2h, for: 1s }')));
    const at = (t: number) => json(out.find((m) => m.sample.t === t)!).ts!;
    expect(at(1000)).toBe(START + 1000);
    expect(at(2500)).toBe(500);
    expect(new Date(at(2500)).getUTCFullYear()).toBe(1970);
    expect(at(5500)).toBe(START + 5500 - 7_200_000);
    expect(at(7000)).toBe(START + 7000);
  });

  it('a counted burst sends that many extra messages at once; a factor speeds up the cadence', async () => {
    const burst = await capture(plan(ONE('  - { at: 3s, kind: burst, count: 50 }')));
    expect(burst.length).toBe(150);
    expect(burst.filter((m) => m.sample.t >= 3000 && m.sample.t < 3050).length).toBe(51);
    const fast = await capture(plan(ONE('  - { at: 2s, kind: burst, factor: 5, for: 2s }')));
    expect(fast.filter((m) => m.sample.t >= 2000 && m.sample.t < 4000).length).toBeGreaterThanOrEqual(95);
  });

  it('oversized grows payloads to the size and keeps them decodable JSON', async () => {
    const out = await capture(plan(ONE('  - { at: 1s, kind: oversized, size: 16KiB, for: 500ms }')));
    const big = out.filter((m) => m.faults.includes('oversized'));
    expect(big.length).toBe(5);
    for (const m of big) {
      expect(m.bytes.length).toBeGreaterThanOrEqual(16 * 1024 - 16);
      expect(json(m).t).toBeTypeOf('number');
      expect(m.readings).toBe(1);
    }
  });

  it('a ramp event moves a metric from where it is to the target over its time, and a set event replaces its signal', async () => {
    const out = await capture(
      plan(`
duration: 10s
fleet:
  - { profile: weir-json, id: d1, cadence: 100ms, variation: { jitter: 0ms, start: together }, metrics: { t: [{ kind: constant, value: 20 }], rh: [{ kind: constant, value: 50 }] } }
timeline:
  - { at: 2s, kind: ramp, metric: t, to: 90, over: 2s }
  - { at: 6s, kind: set, metric: rh, signal: [{ kind: constant, value: 7 }], for: 1s }
`),
    );
    const v = (t: number, k: string) => json(out.find((m) => m.sample.t === t)!)[k];
    expect(v(1900, 't')).toBe(20);
    expect(v(3000, 't')).toBe(55);
    expect(v(4000, 't')).toBe(90);
    expect(v(9900, 't')).toBe(90);
    expect([v(5900, 'rh'), v(6000, 'rh'), v(6900, 'rh'), v(7000, 'rh')]).toEqual([50, 7, 7, 50]);
  });

  it('GPIO devices drive an in-memory chip line on each change of level (activeLow respected)', async () => {
    const chip = new MemoryGpioChip();
    const levels: number[] = [];
    await chip.openInput(17, 'pull-up', (l) => levels.push(l));
    const clock = new VirtualClock(0);
    const p = plan(`
fleet:
  - { profile: gpio-button, id: door, gpio: { pin: 17 }, cadence: 100ms, variation: { jitter: 0ms, start: together }, metrics: { pressed: [{ kind: square, period: 1s, duty: 0.3 }] } }
`);
    const fleet = await startFleet(p, { clock, gpio: chip, startEpoch: START });
    clock.advanceTo(2950);
    await fleet.stop();
    // pressed (active) pulls the line low: 0 while pressed, 1 when released
    expect(levels).toEqual([0, 1, 0, 1, 0, 1]);
    expect(chip.level(17)).toBe(1);
  });
});
