/**
 * Signals for metrics a scenario leaves out: a walk inside the profile's range,
 * so a fleet of a library profile runs with no signal written at all.
 */
import type { DeviceProfile } from '../../devices/profiles/schema.js';
import type { SignalStep } from '../signals/schema.js';
import { NMEA_DEFAULT_SIGNALS } from '../encode/nmea.js';

export function defaultSignal(profile: DeviceProfile, metric: string, cadenceMs: number): SignalStep[] {
  if (profile.decoder.kind === 'nmea' && NMEA_DEFAULT_SIGNALS[metric]) return NMEA_DEFAULT_SIGNALS[metric]!;
  if (profile.transport?.kind === 'gpio') {
    // a button pressed for a while every ten reports
    return [{ kind: 'square', period: `${cadenceMs * 10}ms`, duty: 0.3, low: 0, high: 1 }];
  }
  const spec = profile.metrics?.[metric];
  const min = spec?.min ?? (spec?.max !== undefined ? spec.max - 100 : 0);
  const max = spec?.max ?? min + 100;
  // stay clear of the limits: a default signal should not raise out-of-range flags
  const lo = min + (max - min) * 0.2;
  const hi = max - (max - min) * 0.2;
  return [{ kind: 'walk', min: lo, max: hi, step: (hi - lo) / 50 }];
}
