/**
 * A device's bytes on its transport: the profile's format, then on serial its
 * checksum and framing. Fault mutations sit here because each must break the
 * bytes the way the real fault does (noise hits the wire; a firmware bug hits
 * the payload before its checksum is computed).
 */
import type { Checksum, Framing } from '../../devices/serial/schema.js';
import { createFormat, type Format } from '../encode/format.js';
import type { Body, Sample } from '../encode/types.js';
import { frame, withChecksum, withWrongChecksum } from '../encode/wire.js';
import type { Random } from '../random.js';
import type { DeviceSpec } from '../scenario/plan.js';

/** Bytes a corrupted byte must not turn into: they would cut or merge frames instead of corrupting one. */
const FRAMING_BYTES = new Set([0x0a, 0x0d, 0xc0, 0xdb, 0x00]);

export class Codec {
  readonly format: Format;
  readonly #serial: { framing: Framing; checksum: Checksum | undefined } | undefined;
  readonly #keep: ReadonlySet<string> | undefined;
  readonly #nmea: boolean;

  constructor(spec: DeviceSpec) {
    const t = spec.profile.transport?.kind === 'serial' ? spec.profile.transport : undefined;
    this.format = createFormat(spec.profile, { headerLine: spec.transport === 'serial' && t?.headerLine === true });
    this.#serial = spec.transport === 'serial' ? { framing: t?.framing ?? { kind: 'lf' }, checksum: t?.checksum } : undefined;
    this.#nmea = spec.profile.decoder.kind === 'nmea';
    // the gateway keeps only listed metrics of an `only` profile; count what it will keep
    this.#keep = spec.profile.only && spec.profile.metrics ? new Set(Object.keys(spec.profile.metrics)) : undefined;
  }

  /** True when a checksum catches line noise; without one a flipped digit can still decode (the sim counts 0 readings either way). */
  get detectsCorruption(): boolean {
    return this.#serial?.checksum !== undefined || this.#nmea;
  }

  encode(sample: Sample, metrics: readonly string[]): Body[] {
    return this.format.encode(sample, metrics);
  }

  /** Readings the gateway makes of a body that decodes. */
  readings(body: Body): number {
    return this.#keep ? body.metrics.filter((m) => this.#keep!.has(m)).length : body.metrics.length;
  }

  wire(payload: Buffer): Buffer {
    return this.#framed(withChecksum(payload, this.#serial?.checksum)).bytes;
  }

  /** Intact payload, wrong checksum; undefined when there is no checksum to get wrong. */
  wireWithWrongChecksum(payload: Buffer): Buffer | undefined {
    const bad = withWrongChecksum(payload, this.#serial?.checksum);
    return bad && this.#framed(bad).bytes;
  }

  /** One payload byte flipped after framing, as line noise does. */
  wireWithNoise(payload: Buffer, random: Random): Buffer {
    const framed = this.#framed(withChecksum(payload, this.#serial?.checksum));
    const out = Buffer.from(framed.bytes);
    if (framed.end <= framed.start) return out;
    const at = framed.start + Math.floor(random() * (framed.end - framed.start));
    let mask = 1 << Math.floor(random() * 8);
    for (let tries = 0; FRAMING_BYTES.has(out[at]! ^ mask) && tries < 8; tries++) mask = (mask << 1) & 0xff || 1;
    out[at] = out[at]! ^ mask;
    return out;
  }

  preamble(metrics: readonly string[]): Buffer[] {
    return this.format.preamble(metrics).map((p) => this.wire(p));
  }

  #framed(payload: Buffer): { bytes: Buffer; start: number; end: number } {
    return this.#serial ? frame(payload, this.#serial.framing) : { bytes: payload, start: 0, end: payload.length };
  }
}
