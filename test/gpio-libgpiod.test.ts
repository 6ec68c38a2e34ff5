/**
 * The libgpiod backend against stand-in `gpiodetect`, `gpioget`, `gpiomon` and
 * `gpioset` scripts that behave like Debian's gpiod tools (1.6 and 2.x option
 * styles) and log how they were called. Edges are lines appended to the file
 * the stand-in gpiomon follows.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../gateway/core/clock.js';
import { LibgpiodChip, parseGpiodetect, type LibgpiodCommands } from '../devices/gpio/libgpiod-chip.js';
import { GpioSource } from '../devices/gpio/gpio-source.js';
import { resolveGpioPins } from '../devices/gpio/settings.js';
import { eventually, sleep } from './lib/mqtt.js';
import { libraryProfiles, testPipeline } from './lib/bound-pipeline.js';

let dir: string | undefined;
let source: GpioSource | undefined;
afterEach(async () => {
  await source?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  source = dir = undefined;
});

function standIns(version: '1.6.3' | '2.1'): { commands: LibgpiodCommands; log: () => string[]; edge: (line: string) => void } {
  const d = (dir = mkdtempSync(join(tmpdir(), 'weir-gpiod-')));
  const log = join(d, 'calls.log');
  const events = join(d, 'events');
  writeFileSync(log, '');
  writeFileSync(events, '');
  const script = (name: string, body: string) => {
    const file = join(d, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
    return file;
  };
  const commands: LibgpiodCommands = {
    gpiodetect: script('gpiodetect', 'echo "gpiochip0 [pinctrl-bcm2711] (58 lines)"\necho "gpiochip1 [raspberrypi-exp-gpio] (8 lines)"'),
    gpioget: script('gpioget', `echo "get $*" >> ${log}\necho 1`),
    gpiomon: script('gpiomon', `echo "mon $*" >> ${log}\nexec tail -n +1 -f ${events}`),
    gpioset: script(
      'gpioset',
      [
        `if [ "$1" = --version ]; then echo "gpioset (libgpiod) v${version}"; exit 0; fi`,
        'args="$*"',
        `echo "set $args" >> ${log}`,
        `trap 'echo "released $args" >> ${log}; exit 0' TERM INT`,
        'while :; do sleep 0.05; done',
      ].join('\n'),
    ),
  };
  return { commands, log: () => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean), edge: (line) => appendFileSync(events, `${line}\n`) };
}

async function rig(version: '1.6.3' | '2.1') {
  const fake = standIns(version);
  const profiles = libraryProfiles();
  const chip = await LibgpiodChip.open({ onProblem: () => undefined, commands: fake.commands });
  if (typeof chip === 'string') throw new Error(chip);
  const { pins } = resolveGpioPins(
    [
      { name: 'door', pin: 17, profile: 'gpio-button', debounce: '0ms' },
      { name: 'fan', pin: 27, profile: 'gpio-relay' },
    ],
    profiles,
  );
  source = new GpioSource({ pins, chip, clock: new SystemClock() });
  const t = testPipeline(profiles);
  await source.start(t.pipeline.ingest, t.pipeline.problem);
  return { fake, chip, source, ...t };
}

describe('libgpiod command-line backend', () => {
  it('parses gpiodetect and picks the Raspberry Pi pin controller', () => {
    expect(parseGpiodetect('gpiochip0 [pinctrl-bcm2711] (58 lines)\ngpiochip1 [raspberrypi-exp-gpio] (8 lines)\n')).toEqual([
      { name: 'gpiochip0', label: 'pinctrl-bcm2711', lines: 58 },
      { name: 'gpiochip1', label: 'raspberrypi-exp-gpio', lines: 8 },
    ]);
  });

  it('monitors inputs with gpiomon and holds outputs with gpioset (tools 1.6, Bookworm)', async () => {
    const r = await rig('1.6.3');
    expect(r.chip.description).toBe('libgpiod 1 tools, pinctrl-bcm2711 (gpiochip0)');
    await eventually(() => r.fake.log().some((l) => l.startsWith('mon')), 3000, 'gpiomon started');
    // gpiomon and gpioset start concurrently: their lines may come in either order
    expect(r.fake.log().sort()).toEqual([
      'get --bias pull-up gpiochip0 17',
      'mon --line-buffered --format %o %e --bias pull-up gpiochip0 17',
      'set --mode=signal gpiochip0 27=1',
    ]);
    // gpioget said 1 (idle, pulled up): not pressed; the relay starts off
    expect(r.readings.map((x) => [x.device, x.value])).toEqual([
      ['door', false],
      ['fan', false],
    ]);
    r.fake.edge('17 0 1700000000 5');
    await eventually(() => r.readings.length === 3, 3000, 'the falling edge');
    expect(r.readings[2]).toMatchObject({ device: 'door', metric: 'pressed', value: true });
    r.fake.edge('17 1 1700000000 9');
    await eventually(() => r.readings.length === 4, 3000, 'the rising edge');

    expect(await r.source.setOutput('fan', 'on')).toMatchObject({ ok: true, changed: true });
    expect(r.fake.log().slice(-2)).toEqual(['released --mode=signal gpiochip0 27=1', 'set --mode=signal gpiochip0 27=0']);
    await r.source.stop();
    source = undefined;
    // the safe state is written before the line is let go, and nothing is left running
    expect(r.fake.log().slice(-3)).toEqual(['released --mode=signal gpiochip0 27=0', 'set --mode=signal gpiochip0 27=1', 'released --mode=signal gpiochip0 27=1']);
  });

  it('speaks the tools 2.x options (Trixie)', async () => {
    const r = await rig('2.1');
    await eventually(() => r.fake.log().some((l) => l.startsWith('mon')), 3000, 'gpiomon started');
    expect(r.fake.log().sort()).toEqual([
      'get --bias pull-up --numeric --chip gpiochip0 17',
      'mon --format %o %e --bias pull-up --chip gpiochip0 17',
      'set --chip gpiochip0 27=1',
    ]);
    // 2.x prints 2 for a falling edge
    r.fake.edge('17 2');
    await eventually(() => r.readings.length === 3, 3000, 'the falling edge');
    expect(r.readings[2]).toMatchObject({ value: true });
  });

  it('reports tools that are missing instead of failing the gateway', async () => {
    const r = await LibgpiodChip.open({ onProblem: () => undefined, commands: { gpiodetect: '/nonexistent/gpiodetect', gpioget: 'x', gpiomon: 'x', gpioset: 'x' } });
    expect(r).toBe('the libgpiod tools are not installed (apt install gpiod)');
    await sleep(0);
  });
});
