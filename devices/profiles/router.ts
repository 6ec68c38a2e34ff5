/**
 * Finds the profile for an address (an MQTT topic) and decodes its payload into
 * readings with units, ranges and tags applied. First matching profile wins.
 * Frames from serial ports and GPIO pins name their profile instead (decodeAs).
 */
import type { DecodedReading, Decoder } from '../../gateway/core/contracts.js';
import type { DeviceProfile } from './schema.js';
import { compileTopicPattern, type TopicPattern } from './topic-pattern.js';
import { createDecoder } from '../decoders/registry.js';

/** A decoded reading with its profile applied; absent facts are `undefined`, so every one has the same shape. */
export interface RoutedReading {
  readonly device: string;
  readonly metric: string;
  readonly value: DecodedReading['value'];
  readonly ts: number | undefined;
  readonly unit: string | undefined;
  readonly tags: DecodedReading['tags'] | undefined;
  readonly outOfRange: boolean;
}

export type RouteResult =
  | { readonly kind: 'readings'; readonly profile: string; readonly device: string; readonly readings: readonly RoutedReading[] }
  | { readonly kind: 'decode-error'; readonly profile: string; readonly device: string; readonly code: string; readonly message: string }
  | { readonly kind: 'unrouted' };

interface CompiledProfile {
  readonly profile: DeviceProfile;
  readonly pattern: TopicPattern | undefined;
  readonly decoder: Decoder;
  readonly keep: ReadonlySet<string> | undefined;
}

export class ProfileRouter {
  readonly #profiles: CompiledProfile[];
  readonly #byName = new Map<string, CompiledProfile>();

  constructor(profiles: readonly DeviceProfile[]) {
    this.#profiles = profiles.map((profile) => ({
      profile,
      pattern: profile.topic === undefined ? undefined : compileTopicPattern(profile.topic),
      decoder: createDecoder(profile),
      keep: profile.only && profile.metrics ? new Set(Object.keys(profile.metrics)) : undefined,
    }));
    // first definition wins, as in topic routing
    for (const c of [...this.#profiles].reverse()) this.#byName.set(c.profile.name, c);
  }

  /** The subscription filters that cover every profile (for external brokers). */
  filters(): string[] {
    return [...new Set(this.#profiles.flatMap((p) => (p.pattern ? [p.pattern.filter] : [])))];
  }

  route(topic: string, payload: Buffer): RouteResult {
    for (const compiled of this.#profiles) {
      const params = compiled.pattern?.match(topic);
      if (!params) continue;
      const device = params.device ?? compiled.profile.device!;
      return this.#decode(compiled, device, payload, params);
    }
    return { kind: 'unrouted' };
  }

  /** Decodes with a named profile for a known device: serial ports and GPIO pins are bound to one, not routed by topic. */
  decodeAs(profileName: string, device: string, payload: Buffer): RouteResult {
    const compiled = this.#byName.get(profileName);
    return compiled ? this.#decode(compiled, device, payload, {}) : { kind: 'unrouted' };
  }

  #decode(compiled: CompiledProfile, device: string, payload: Buffer, params: Record<string, string>): RouteResult {
    const { profile } = compiled;
    const result = compiled.decoder.decode(payload, { params: params.device === undefined ? { ...params, device } : params });
    if (!result.ok) return { kind: 'decode-error', profile: profile.name, device, code: result.code, message: result.message };
    return { kind: 'readings', profile: profile.name, device, readings: this.#finish(compiled, result.readings) };
  }

  #finish(compiled: CompiledProfile, readings: readonly DecodedReading[]): RoutedReading[] {
    const { metrics, tags } = compiled.profile;
    const out: RoutedReading[] = [];
    for (const r of readings) {
      if (compiled.keep && !compiled.keep.has(r.metric)) continue;
      const spec = metrics?.[r.metric];
      const outOfRange =
        typeof r.value === 'number' && spec !== undefined && ((spec.min !== undefined && r.value < spec.min) || (spec.max !== undefined && r.value > spec.max));
      // one object literal of one shape per reading: spreads here cost a tenth of the ingest path
      out.push({
        device: r.device,
        metric: r.metric,
        value: r.value,
        ts: r.ts,
        unit: r.unit ?? spec?.unit,
        tags: tags ? (r.tags ? { ...tags, ...r.tags } : tags) : r.tags,
        outOfRange,
      });
    }
    return out;
  }
}
