/**
 * Picks the GPIO backend: sysfs through onoff where /sys/class/gpio is usable,
 * else libgpiod's tools, else none, with every reason kept so the gateway can
 * say plainly why a board has no GPIO instead of failing to start.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../gateway/core/contracts.js';
import { parseDuration } from '../../gateway/core/units.js';
import type { ChipProblem, GpioChip } from './chip.js';
import { MemoryGpioChip } from './memory-chip.js';
import { SysfsGpioChip } from './sysfs-chip.js';
import { LibgpiodChip, type LibgpiodCommands } from './libgpiod-chip.js';
import { SYSFS_GPIO_ROOT } from './sysfs-offset.js';
import type { GpioConfig } from './schema.js';

export interface OpenChipDeps {
  readonly clock: Clock;
  readonly onProblem: ChipProblem;
  readonly sysfsRoot?: string;
  readonly commands?: LibgpiodCommands;
  /** The chip `backend: memory` uses (firmware-sim and tests drive it); a new one by default. */
  readonly memory?: MemoryGpioChip;
}

export async function openGpioChip(
  config: Pick<GpioConfig, 'backend' | 'chip' | 'pollInterval'>,
  deps: OpenChipDeps,
): Promise<{ chip: GpioChip; reason?: undefined } | { chip?: undefined; reason: string }> {
  const chipName = config.chip === undefined ? {} : { chip: config.chip };
  const sysfs = async () => {
    const root = deps.sysfsRoot ?? SYSFS_GPIO_ROOT;
    if (!existsSync(join(root, 'export'))) return `${root} is absent (the kernel has no sysfs GPIO)`;
    return SysfsGpioChip.open({ ...chipName, root, pollIntervalMs: parseDuration(config.pollInterval), clock: deps.clock, onProblem: deps.onProblem });
  };
  const libgpiod = () => LibgpiodChip.open({ ...chipName, onProblem: deps.onProblem, ...(deps.commands ? { commands: deps.commands } : {}) });
  const result = (r: GpioChip | string, label: string) => (typeof r === 'string' ? { reason: `${label}: ${r}` } : { chip: r });

  switch (config.backend) {
    case 'none':
      return { reason: 'GPIO is turned off (gpio.backend: none)' };
    case 'memory':
      return { chip: deps.memory ?? new MemoryGpioChip() };
    case 'sysfs':
      return result(await sysfs(), 'sysfs');
    case 'libgpiod':
      return result(await libgpiod(), 'libgpiod');
    case 'auto': {
      const viaSysfs = await sysfs();
      if (typeof viaSysfs !== 'string') return { chip: viaSysfs };
      const viaTools = await libgpiod();
      if (typeof viaTools !== 'string') return { chip: viaTools };
      return { reason: `sysfs: ${viaSysfs}; libgpiod: ${viaTools}` };
    }
  }
}
