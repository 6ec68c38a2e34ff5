/** What the composition root needs to run GPIO pins: one call from config to a started-ready source. */
import type { Clock } from '../../gateway/core/contracts.js';
import { WeirError } from '../../gateway/core/errors.js';
import type { DeviceProfile } from '../profiles/schema.js';
import type { LifecycleLog } from '../serial/serial-source.js';
import { GpioSource } from './gpio-source.js';
import { openGpioChip, type OpenChipDeps } from './open-chip.js';
import { resolveGpioPins } from './settings.js';
import type { GpioConfig } from './schema.js';

export { GpioConfig, GpioPinConfig, GpioTransport } from './schema.js';
export { GpioSource, type GpioStatus, type GpioPinStatus } from './gpio-source.js';
export { MemoryGpioChip } from './memory-chip.js';
export { resolveGpioPins } from './settings.js';
export type { Actuator, ActuationResult } from './actuator.js';

/**
 * Builds the GPIO source. Config problems throw (they were reported at load);
 * a board without GPIO does not: the source then reports `available: false`.
 */
export async function createGpioSource(
  config: GpioConfig,
  profiles: readonly DeviceProfile[],
  deps: Omit<OpenChipDeps, 'onProblem'> & { readonly log?: LifecycleLog; readonly clock: Clock },
): Promise<GpioSource> {
  const { pins, problems } = resolveGpioPins(config.pins, profiles);
  if (problems.length > 0) throw new WeirError('CONFIG_INVALID', problems.map((p) => `gpio.pins.${p.path.join('.')}: ${p.message}`).join('\n'));
  const opened = pins.length === 0 ? { reason: 'no pins configured' } : await openGpioChip(config, { ...deps, onProblem: (code, message) => deps.log?.warn({ code }, message) });
  return new GpioSource({ pins, chip: opened.chip, ...(opened.reason !== undefined ? { unavailable: opened.reason } : {}), clock: deps.clock, ...(deps.log ? { log: deps.log } : {}) });
}
