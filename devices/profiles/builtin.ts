/**
 * Profiles that work with no configuration, tried after the configured ones.
 * They cover weir's own convention, one-value-per-topic sensors, and Tasmota.
 */
import type { DeviceProfile } from './schema.js';

export const BUILTIN_PROFILES: readonly DeviceProfile[] = [
  {
    name: 'weir-json',
    description: 'weir convention: a JSON object of metrics, optional `ts` (epoch s/ms or ISO 8601).',
    topic: 'weir/{device}/telemetry',
    decoder: { kind: 'json' },
    timestamp: { field: 'ts', format: 'auto' },
  },
  {
    name: 'value-per-topic',
    description: 'One plain value per topic: `sensors/kitchen/temperature` = `21.5`.',
    topic: 'sensors/{device}/{metric}',
    decoder: { kind: 'value' },
  },
  {
    name: 'tasmota-sensor',
    description: 'Tasmota periodic telemetry: `tele/<topic>/SENSOR` with nested sensor objects.',
    topic: 'tele/{device}/SENSOR',
    decoder: { kind: 'json', exclude: ['TempUnit', 'PressureUnit', 'SpeedUnit'] },
    timestamp: { field: 'Time', format: 'iso8601' },
  },
];
