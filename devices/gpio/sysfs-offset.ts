/**
 * Raspberry Pi OS Bookworm's kernels number sysfs GPIOs from a chip base of 512
 * (Pi 4) or 571 (Pi 5, the RP1 chip), so `new Gpio(17)` from onoff fails there
 * (fivdi/onoff#197, #199, #200). The base is read from
 * /sys/class/gpio/gpiochip<N>/{base,label,ngpio}; config keeps BCM numbers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PI_PIN_CONTROLLERS } from './chip.js';

export const SYSFS_GPIO_ROOT = '/sys/class/gpio';

export interface SysfsChip {
  readonly name: string;
  readonly label: string;
  readonly base: number;
  readonly ngpio: number;
}

export function listSysfsChips(root = SYSFS_GPIO_ROOT): SysfsChip[] {
  let entries: string[];
  try {
    entries = readdirSync(root).filter((e) => /^gpiochip\d+$/.test(e));
  } catch {
    return [];
  }
  const chips: SysfsChip[] = [];
  for (const name of entries) {
    try {
      const read = (f: string) => readFileSync(join(root, name, f), 'utf8').trim();
      chips.push({ name, label: read('label'), base: Number.parseInt(read('base'), 10), ngpio: Number.parseInt(read('ngpio'), 10) });
    } catch {
      // a chip directory without the usual files is not one we can use
    }
  }
  return chips.sort((a, b) => a.base - b.base);
}

/**
 * The chip whose lines are the header pins: the one named by `wanted` (label or
 * name), else the first Raspberry Pi pin controller, else the only chip there is.
 */
export function pickChip<C extends { name: string; label: string }>(chips: readonly C[], wanted?: string): { chip: C } | { problem: string } {
  if (wanted !== undefined) {
    const chip = chips.find((c) => c.label === wanted || c.name === wanted);
    return chip ? { chip } : { problem: `no GPIO chip is labelled or named ${JSON.stringify(wanted)} (found: ${describeChips(chips)})` };
  }
  for (const label of PI_PIN_CONTROLLERS) {
    const chip = chips.find((c) => c.label === label);
    if (chip) return { chip };
  }
  if (chips.length === 1) return { chip: chips[0]! };
  return { problem: `no Raspberry Pi pin controller among the GPIO chips (found: ${describeChips(chips)}); name one with gpio.chip` };
}

/** The sysfs number of a BCM pin on a chip, or why there is none. */
export function sysfsNumber(chip: SysfsChip, bcm: number): number | string {
  if (bcm >= chip.ngpio) return `pin ${bcm} is beyond the ${chip.ngpio} lines of ${chip.label}`;
  return chip.base + bcm;
}

function describeChips(chips: readonly { name: string; label: string }[]): string {
  return chips.length ? chips.map((c) => `${c.name} [${c.label}]`).join(', ') : 'none';
}
