/**
 * Finds the profile for an address (an MQTT topic) and decodes its payload into
 * readings with units, ranges and tags applied. First matching profile wins.
 */
import type { DecodedReading, Decoder } from '../../gateway/core/contracts.js';
import type { DeviceProfile } from './schema.js';
import { compileTopicPattern, type TopicPattern } from './topic-pattern.js';
import { createDecoder } from '../decoders/registry.js';

export interface RoutedReading extends DecodedReading {
  readonly outOfRange: boolean;
}

export type RouteResult =
  | { readonly kind: 'readings'; readonly profile: string; readonly device: string; readonly readings: readonly RoutedReading[] }
  | { readonly kind: 'decode-error'; readonly profile: string; readonly device: string; readonly code: string; readonly message: string }
  | { readonly kind: 'unrouted' };

interface CompiledProfile {
  readonly profile: DeviceProfile;
  readonly pattern: TopicPattern;
  readonly decoder: Decoder;
  readonly keep: ReadonlySet<string> | undefined;
}

export class ProfileRouter {
  readonly #profiles: CompiledProfile[];

  constructor(profiles: readonly DeviceProfile[]) {
    this.#profiles = profiles.map((profile) => ({
      profile,
      pattern: compileTopicPattern(profile.topic),
      decoder: createDecoder(profile),
      keep: profile.only && profile.metrics ? new Set(Object.keys(profile.metrics)) : undefined,
    }));
  }

  /** The subscription filters that cover every profile (for external brokers). */
  filters(): string[] {
    return [...new Set(this.#profiles.map((p) => p.pattern.filter))];
  }

  route(topic: string, payload: Buffer): RouteResult {
    for (const compiled of this.#profiles) {
      const params = compiled.pattern.match(topic);
      if (!params) continue;
      const { profile } = compiled;
      const device = params.device ?? profile.device!;
      const result = compiled.decoder.decode(payload, { params: { ...params, device } });
      if (!result.ok) return { kind: 'decode-error', profile: profile.name, device, code: result.code, message: result.message };
      return { kind: 'readings', profile: profile.name, device, readings: this.#finish(compiled, result.readings) };
    }
    return { kind: 'unrouted' };
  }

  #finish(compiled: CompiledProfile, readings: readonly DecodedReading[]): RoutedReading[] {
    const { metrics, tags } = compiled.profile;
    const out: RoutedReading[] = [];
    for (const r of readings) {
      if (compiled.keep && !compiled.keep.has(r.metric)) continue;
      const spec = metrics?.[r.metric];
      const outOfRange =
        typeof r.value === 'number' && spec !== undefined && ((spec.min !== undefined && r.value < spec.min) || (spec.max !== undefined && r.value > spec.max));
      const unit = r.unit ?? spec?.unit;
      out.push({ ...r, ...(unit !== undefined ? { unit } : {}), ...(tags ? { tags: { ...tags, ...r.tags } } : {}), outOfRange });
    }
    return out;
  }
}
