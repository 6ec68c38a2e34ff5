/** What the composition root needs to run serial ports: config in, one source per port out. */
import type { Clock } from '../../gateway/core/contracts.js';
import { WeirError } from '../../gateway/core/errors.js';
import type { DeviceProfile } from '../profiles/schema.js';
import { SerialSource, type LifecycleLog } from './serial-source.js';
import { resolveSerialSettings, serialBindingProblems } from './settings.js';
import type { SerialPortConfig } from './schema.js';

export { SerialPortConfig, SerialTransport } from './schema.js';
export { SerialSource, type LifecycleLog } from './serial-source.js';
export type { SerialPortStatus } from './status.js';
export { serialBindingProblems, resolveSerialSettings, type BindingProblem } from './settings.js';

/** One source per `serial:` entry; binding problems throw (the config loader reports them first). */
export function createSerialSources(ports: readonly SerialPortConfig[], profiles: readonly DeviceProfile[], deps: { clock: Clock; log?: LifecycleLog }): SerialSource[] {
  const problems = serialBindingProblems(ports, profiles);
  if (problems.length > 0) throw new WeirError('CONFIG_INVALID', problems.map((p) => `serial.${p.path.join('.')}: ${p.message}`).join('\n'));
  return ports.map((port) => new SerialSource({ settings: resolveSerialSettings(port, profiles).settings!, clock: deps.clock, ...(deps.log ? { log: deps.log } : {}) }));
}
