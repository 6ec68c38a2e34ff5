/**
 * A pin's effective settings: the `gpio.pins` entry overrides its profile's
 * `transport`, which overrides the defaults. Problems carry their config path.
 */
import { parseDuration } from '../../gateway/core/units.js';
import type { DeviceProfile } from '../profiles/schema.js';
import type { BindingProblem } from '../serial/settings.js';
import type { Bias } from './chip.js';
import type { GpioPinConfig } from './schema.js';

export interface GpioPinSettings {
  readonly name: string;
  readonly pin: number;
  readonly profile: string;
  readonly device: string;
  readonly direction: 'in' | 'out';
  readonly edge: 'both' | 'rising' | 'falling';
  readonly debounceMs: number;
  readonly activeLow: boolean;
  readonly bias: Bias;
  /** Logical state of an output at start and at shutdown. */
  readonly safeState: boolean;
}

export function resolveGpioPins(pins: readonly GpioPinConfig[], profiles: readonly DeviceProfile[]): { pins: GpioPinSettings[]; problems: BindingProblem[] } {
  const out: GpioPinSettings[] = [];
  const problems: BindingProblem[] = [];
  const names = new Map<string, number>();
  const numbers = new Map<number, number>();
  pins.forEach((p, i) => {
    const at = (path: string, message: string) => problems.push({ path: [i, path], message });
    if (names.has(p.name)) at('name', `pin name ${JSON.stringify(p.name)} is already used by entry ${names.get(p.name)}`);
    if (numbers.has(p.pin)) at('pin', `BCM pin ${p.pin} is already used by entry ${numbers.get(p.pin)}`);
    names.set(p.name, i);
    numbers.set(p.pin, i);
    const profile = profiles.find((x) => x.name === p.profile);
    if (!profile) return at('profile', `no device profile is named ${JSON.stringify(p.profile)}`);
    const t = profile.transport;
    if (t?.kind !== 'gpio') return at('profile', `profile ${profile.name} does not describe a GPIO device (transport.kind gpio)`);
    if (profile.decoder.kind !== 'value' || profile.decoder.metric === undefined) {
      return at('profile', `profile ${profile.name} must decode with { kind: value, metric: <name> }: GPIO readings are true/false`);
    }
    out.push({
      name: p.name,
      pin: p.pin,
      profile: profile.name,
      device: p.device ?? p.name,
      direction: t.direction,
      edge: p.edge ?? t.edge ?? 'both',
      debounceMs: parseDuration(p.debounce ?? t.debounce ?? '0ms'),
      activeLow: p.activeLow ?? t.activeLow ?? false,
      bias: p.bias ?? t.bias ?? 'as-is',
      safeState: (p.safeState ?? t.safeState ?? 'off') === 'on',
    });
  });
  return { pins: problems.length ? [] : out, problems };
}
