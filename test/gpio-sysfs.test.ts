/**
 * onoff's real code against a fake sysfs GPIO tree. The tree must sit at
 * /sys/class/gpio (onoff hard-codes the path), so the suite re-runs itself
 * inside a private mount namespace (`unshare -m`, as root) with a tmpfs there.
 * This kernel has no /sys/class/gpio and sysfs cannot take a new directory, so
 * the tmpfs covers /sys/class (in the namespace only) and gpio/ is made on it.
 * A tmpfs file raises no interrupts, so edges arrive through the polling
 * fallback here; the in-memory chip covers interrupt-driven edges.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { SystemClock } from '../gateway/core/clock.js';
import type { SourceProblem } from '../gateway/core/contracts.js';
import { GpioSource } from '../devices/gpio/gpio-source.js';
import { openGpioChip } from '../devices/gpio/open-chip.js';
import { resolveGpioPins } from '../devices/gpio/settings.js';
import { listSysfsChips, pickChip } from '../devices/gpio/sysfs-offset.js';
import { eventually } from './lib/mqtt.js';
import { libraryProfiles, testPipeline } from './lib/bound-pipeline.js';

const INSIDE = process.env.WEIR_FAKE_SYSFS === '1';
const ROOT = '/sys/class/gpio';
const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['-m', 'true']).status === 0;

// Outside the namespace this suite spawns vitest again under `unshare -m` (root only); the inner
// run executes the suite below and this test fails if any of it fails, so nothing is lost to the skips.
describe.skipIf(INSIDE)('fake sysfs GPIO in a private mount namespace', () => {
  it.skipIf(!canUnshare)('runs the onoff suite inside the namespace and it passes', () => {
    const script = `mount -t tmpfs weir-fake-sysfs /sys/class && mkdir ${ROOT} && exec npx vitest run --reporter=verbose test/gpio-sysfs.test.ts`;
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c', script], {
      env: { ...process.env, WEIR_FAKE_SYSFS: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out, out).toMatch(/Tests\s+4 passed/);
    expect(r.status, out).toBe(0);
  });
});

/** What the kernel shows on a Raspberry Pi 5 under Bookworm: RP1 header GPIOs from 571. */
function pi5Tree(exported: Record<number, string>): void {
  emptyTree();
  writeFileSync(`${ROOT}/export`, '');
  writeFileSync(`${ROOT}/unexport`, '');
  const chip = (name: string, base: number, label: string, ngpio: number) => {
    mkdirSync(`${ROOT}/${name}`, { recursive: true });
    writeFileSync(`${ROOT}/${name}/base`, `${base}\n`);
    writeFileSync(`${ROOT}/${name}/label`, `${label}\n`);
    writeFileSync(`${ROOT}/${name}/ngpio`, `${ngpio}\n`);
  };
  chip('gpiochip512', 512, 'gpio-brcmstb@107d508500', 32);
  chip('gpiochip544', 544, 'gpio-brcmstb@107d517c00', 15);
  chip('gpiochip571', 571, 'pinctrl-rp1', 54);
  // lines exported before weir starts (udev rules, or a previous run); onoff reuses them
  for (const [n, value] of Object.entries(exported)) {
    mkdirSync(`${ROOT}/gpio${n}`, { recursive: true });
    for (const [f, v] of Object.entries({ value, direction: 'in\n', edge: 'none\n', active_low: '0\n' })) writeFileSync(`${ROOT}/gpio${n}/${f}`, v);
  }
}

function emptyTree(): void {
  for (const e of readdirSync(ROOT)) rmSync(`${ROOT}/${e}`, { recursive: true, force: true });
}

const read = (f: string) => readFileSync(`${ROOT}/${f}`, 'utf8').trim();

// Runs only inside the private mount namespace made by the outer test above.
describe.skipIf(!INSIDE)('onoff on a fake Pi 5 sysfs tree', () => {
  it('resolves the RP1 base 571 from gpiochip*/base and label', () => {
    pi5Tree({});
    const chips = listSysfsChips(ROOT);
    expect(chips.map((c) => [c.name, c.base, c.label])).toEqual([
      ['gpiochip512', 512, 'gpio-brcmstb@107d508500'],
      ['gpiochip544', 544, 'gpio-brcmstb@107d517c00'],
      ['gpiochip571', 571, 'pinctrl-rp1'],
    ]);
    expect(pickChip(chips)).toEqual({ chip: chips[2] });
    expect(pickChip(chips, 'gpiochip512')).toEqual({ chip: chips[0] });
  });

  it('drives inputs and outputs by BCM number through onoff, and leaves outputs safe', async () => {
    // BCM 17 (button, idle high) = 588, BCM 27 (relay) = 598
    pi5Tree({ 588: '1\n', 598: '0\n' });
    const profiles = libraryProfiles();
    const { pins, problems: bad } = resolveGpioPins(
      [
        { name: 'door', pin: 17, profile: 'gpio-button', debounce: '0ms' },
        { name: 'fan', pin: 27, profile: 'gpio-relay' },
        { name: 'ghost', pin: 22, profile: 'gpio-button' },
      ],
      profiles,
    );
    expect(bad).toEqual([]);
    const clock = new SystemClock();
    const problems: SourceProblem[] = [];
    const opened = await openGpioChip({ backend: 'sysfs', pollInterval: '10ms' }, { clock, onProblem: (code, message) => problems.push({ source: 'gpio', code, message }) });
    expect(opened.reason).toBeUndefined();
    expect(opened.chip!.description).toBe('sysfs pinctrl-rp1 (gpiochip571, base 571)');
    const source = new GpioSource({ pins, chip: opened.chip, clock });
    const t = testPipeline(profiles);
    await source.start(t.pipeline.ingest, (p) => problems.push(p));

    // onoff configured the input for both edges and the relay as a glitch-free output at its off level
    expect([read('gpio588/direction'), read('gpio588/edge')]).toEqual(['in', 'both']);
    // (a kernel also sets the value on `high`; the tmpfs stand-in only records the write)
    expect(read('gpio598/direction')).toBe('high');
    // BCM 22 was not exported: onoff asked the kernel for 593, which this fake never creates
    expect(read('export')).toBe('593');
    expect(source.status().pins.map((p) => [p.name, p.state])).toEqual([
      ['door', 'open'],
      ['fan', 'open'],
      ['ghost', 'failed'],
    ]);
    expect(problems.map((p) => p.code)).toEqual(expect.arrayContaining(['GPIO_NO_INTERRUPTS', 'GPIO_PIN_FAILED']));
    expect(t.readings.map((r) => [r.device, r.metric, r.value])).toEqual([
      ['door', 'pressed', false],
      ['fan', 'on', false],
    ]);

    // a press pulls the line low; the value file is polled
    writeFileSync(`${ROOT}/gpio588/value`, '0\n');
    await eventually(() => t.readings.length === 3, 2000, 'the press');
    expect(t.readings[2]).toMatchObject({ device: 'door', metric: 'pressed', value: true });

    expect(await source.setOutput('fan', 'on')).toMatchObject({ ok: true, changed: true });
    expect(read('gpio598/value')).toBe('0');
    await source.stop();
    // off again (active-low relay: high), still exported so the level holds; the input was released
    expect(read('gpio598/value')).toBe('1');
    expect(read('unexport')).toBe('588');
  });

  it('says why sysfs cannot be used when no Raspberry Pi chip is there', async () => {
    pi5Tree({});
    const r = await openGpioChip({ backend: 'sysfs', chip: 'pinctrl-bcm2711', pollInterval: '20ms' }, { clock: new SystemClock(), onProblem: () => undefined });
    expect(r.reason).toMatch(/^sysfs: no GPIO chip is labelled or named "pinctrl-bcm2711" \(found: gpiochip512 \[gpio-brcmstb@107d508500\], .*gpiochip571 \[pinctrl-rp1\]\)/);
  });

  it('finds a Pi 4 under Bookworm at base 512', () => {
    emptyTree();
    writeFileSync(`${ROOT}/export`, '');
    mkdirSync(`${ROOT}/gpiochip512`, { recursive: true });
    mkdirSync(`${ROOT}/gpiochip570`, { recursive: true });
    for (const [dir, base, label, n] of [
      ['gpiochip512', 512, 'pinctrl-bcm2711', 58],
      ['gpiochip570', 570, 'raspberrypi-exp-gpio', 8],
    ] as const) {
      writeFileSync(`${ROOT}/${dir}/base`, `${base}\n`);
      writeFileSync(`${ROOT}/${dir}/label`, `${label}\n`);
      writeFileSync(`${ROOT}/${dir}/ngpio`, `${n}\n`);
    }
    const picked = pickChip(listSysfsChips(ROOT));
    expect('chip' in picked && [picked.chip.label, picked.chip.base]).toEqual(['pinctrl-bcm2711', 512]);
  });
});
