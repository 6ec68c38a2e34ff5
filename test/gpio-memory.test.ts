/**
 * GPIO through the in-memory chip: edges, debounce, polarity, outputs and the
 * actuator, on a virtual clock, into the real ingest pipeline with the shipped
 * button and relay profiles.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../gateway/core/clock.js';
import { GpioSource } from '../devices/gpio/gpio-source.js';
import { MemoryGpioChip } from '../devices/gpio/memory-chip.js';
import { resolveGpioPins } from '../devices/gpio/settings.js';
import { createGpioSource } from '../devices/gpio/index.js';
import { outputValue } from '../devices/gpio/actuator.js';
import type { GpioPinConfig } from '../devices/gpio/schema.js';
import type { SourceProblem } from '../gateway/core/contracts.js';
import { libraryProfiles, testPipeline } from './lib/bound-pipeline.js';

const profiles = libraryProfiles();
const PINS: GpioPinConfig[] = [
  { name: 'door', pin: 17, profile: 'gpio-button', device: 'front-door' },
  { name: 'fan', pin: 27, profile: 'gpio-relay' },
];

async function rig(pins = PINS) {
  const clock = new VirtualClock(1_000_000);
  const chip = new MemoryGpioChip();
  const resolved = resolveGpioPins(pins, profiles);
  expect(resolved.problems).toEqual([]);
  const source = new GpioSource({ pins: resolved.pins, chip, clock });
  const t = testPipeline(profiles);
  const problems: SourceProblem[] = [];
  // the button idles high (pull-up, not pressed)
  chip.drive(17, 1);
  await source.start(t.pipeline.ingest, (p) => (problems.push(p), t.pipeline.problem(p)));
  return { clock, chip, source, problems, ...t };
}

describe('GPIO inputs on the in-memory chip', () => {
  it('reports the initial state, then one reading per debounced press and release', async () => {
    const r = await rig();
    expect(r.readings.map((x) => [x.device, x.metric, x.value])).toEqual([
      ['front-door', 'pressed', false],
      ['fan', 'on', false],
    ]);
    r.readings.length = 0;
    // a press that bounces: low, high, low within 5 ms, then holds
    r.chip.drive(17, 0);
    r.clock.advanceBy(2);
    r.chip.drive(17, 1);
    r.clock.advanceBy(2);
    r.chip.drive(17, 0);
    r.clock.advanceBy(29);
    expect(r.readings).toHaveLength(0);
    r.clock.advanceBy(1);
    expect(r.readings.map((x) => [x.metric, x.value, x.ts])).toEqual([['pressed', true, 1_000_034]]);
    // release, with a bounce that settles back to pressed first: no reading for that
    r.chip.drive(17, 1);
    r.clock.advanceBy(10);
    r.chip.drive(17, 0);
    r.clock.advanceBy(40);
    r.chip.drive(17, 1);
    r.clock.advanceBy(40);
    expect(r.readings.map((x) => x.value)).toEqual([true, false]);
    const door = r.source.status().pins.find((p) => p.name === 'door')!;
    expect(door).toMatchObject({ state: 'open', value: false, counters: { edges: 6, readings: 3 } });
    expect(door.counters.suppressed).toBeGreaterThanOrEqual(1);
  });

  it('selects edges: a rising-only input reports presses, not releases', async () => {
    const r = await rig([{ name: 'pir', pin: 5, profile: 'gpio-button', edge: 'rising', debounce: '0ms', activeLow: false }]);
    // the profile's pull-up makes the idle level high, which without activeLow reads as active
    expect(r.readings[0]).toMatchObject({ device: 'pir', value: true });
    r.readings.length = 0;
    for (const level of [0, 1, 0, 1, 0] as const) r.chip.drive(5, level);
    expect(r.readings.map((x) => x.value)).toEqual([true, true]);
  });
});

describe('GPIO outputs and the actuator', () => {
  it('starts in the safe state, switches on rule request, reports it, and returns to safe on stop', async () => {
    const r = await rig();
    // the relay profile is active-low: off drives the line high
    expect(r.chip.level(27)).toBe(1);
    expect(r.source.outputs()).toEqual(['fan']);
    r.readings.length = 0;
    expect(await r.source.setOutput('fan', 'on')).toEqual({ ok: true, changed: true, value: true });
    expect(r.chip.level(27)).toBe(0);
    expect(await r.source.setOutput('fan', true)).toEqual({ ok: true, changed: false, value: true });
    expect(r.readings.map((x) => [x.device, x.metric, x.value])).toEqual([['fan', 'on', true]]);
    expect(await r.source.setOutput('fan', 'maybe')).toMatchObject({ ok: false, code: 'BAD_VALUE' });
    expect(await r.source.setOutput('door', 'on')).toMatchObject({ ok: false, code: 'UNKNOWN_OUTPUT' });
    await r.source.stop();
    expect(r.chip.level(27)).toBe(1);
  });

  it('reads rule values the way authors write them', () => {
    expect([true, 1, 'ON', 'open', ' high '].map(outputValue)).toEqual([true, true, true, true, true]);
    expect([false, 0, 'off', 'closed'].map(outputValue)).toEqual([false, false, false, false]);
    expect([2, 'toggle'].map(outputValue)).toEqual([undefined, undefined]);
  });
});

describe('no GPIO on this machine', () => {
  it('says so once, clearly, and the rest keeps running', async () => {
    const t = testPipeline(profiles);
    const problems: SourceProblem[] = [];
    const source = await createGpioSource({ backend: 'auto', pollInterval: '20ms', pins: PINS }, profiles, {
      clock: new VirtualClock(),
      sysfsRoot: '/nonexistent/gpio',
      commands: { gpiodetect: '/nonexistent/gpiodetect', gpioget: 'x', gpiomon: 'x', gpioset: 'x' },
    });
    await source.start(t.pipeline.ingest, (p) => problems.push(p));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.code).toBe('GPIO_UNAVAILABLE');
    expect(problems[0]!.message).toMatch(/No GPIO available \(sysfs: .*absent.*; libgpiod: the libgpiod tools are not installed.*\); pins door, fan are disabled; everything else runs/);
    expect(source.status()).toMatchObject({ available: false, pins: [{ state: 'failed' }, { state: 'failed' }] });
    expect(await source.setOutput('fan', 'on')).toMatchObject({ ok: false, code: 'GPIO_UNAVAILABLE' });
    await source.stop();
  });

  it('rejects pins bound to a missing or non-GPIO profile, with the config path', () => {
    const r = resolveGpioPins(
      [
        { name: 'a', pin: 4, profile: 'nope' },
        { name: 'b', pin: 4, profile: 'json-serial-sensor' },
      ],
      profiles,
    );
    expect(r.problems).toEqual([
      { path: [0, 'profile'], message: 'no device profile is named "nope"' },
      { path: [1, 'pin'], message: 'BCM pin 4 is already used by entry 0' },
      { path: [1, 'profile'], message: 'profile json-serial-sensor does not describe a GPIO device (transport.kind gpio)' },
    ]);
  });
});
