/**
 * Binary records written the way the gateway's layout decoder reads them: the
 * same compiled layout (a pure helper of devices/decoders), run backwards.
 * `-` fields and `skip` bytes are zero; fixed framing puts its sync bytes there.
 */
import { compileLayout, type Layout } from '../../devices/decoders/binary-layout.js';

type Writer = (b: Buffer, v: number, offset: number) => void;

const WRITERS: Record<string, Writer> = {
  int8: (b, v, o) => b.writeInt8(v, o),
  uint8: (b, v, o) => b.writeUInt8(v, o),
  bool: (b, v, o) => b.writeUInt8(v, o),
  int16le: (b, v, o) => b.writeInt16LE(v, o),
  int16be: (b, v, o) => b.writeInt16BE(v, o),
  uint16le: (b, v, o) => b.writeUInt16LE(v, o),
  uint16be: (b, v, o) => b.writeUInt16BE(v, o),
  int32le: (b, v, o) => b.writeInt32LE(v, o),
  int32be: (b, v, o) => b.writeInt32BE(v, o),
  uint32le: (b, v, o) => b.writeUInt32LE(v, o),
  uint32be: (b, v, o) => b.writeUInt32BE(v, o),
  float32le: (b, v, o) => b.writeFloatLE(v, o),
  float32be: (b, v, o) => b.writeFloatBE(v, o),
  float64le: (b, v, o) => b.writeDoubleLE(v, o),
  float64be: (b, v, o) => b.writeDoubleBE(v, o),
};

const INT_RANGE: Record<string, [number, number]> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

export class BinaryEncoder {
  readonly #layout: Layout;
  readonly metrics: readonly string[];

  constructor(layout: readonly string[]) {
    this.#layout = compileLayout(layout);
    this.metrics = this.#layout.fields.flatMap((f) => (f.metric === undefined ? [] : [f.metric]));
  }

  get length(): number {
    return this.#layout.length;
  }

  encode(values: Readonly<Record<string, number>>): Buffer {
    const out = Buffer.alloc(this.#layout.length);
    for (const f of this.#layout.fields) {
      if (f.metric === undefined) continue;
      const v = values[f.metric] ?? 0;
      const write = WRITERS[f.type]!;
      if (f.type === 'bool') write(out, v >= 0.5 ? 1 : 0, f.offset);
      else if (f.type.startsWith('float')) write(out, (v - f.add) / f.scale, f.offset);
      else write(out, saturate(f.type, Math.round((v - f.add) / f.scale)), f.offset);
    }
    return out;
  }
}

/** A sensor value past what the field holds saturates, as firmware clamps it, instead of throwing. */
function saturate(type: string, raw: number): number {
  const [min, max] = INT_RANGE[type.replace(/(le|be)$/, '')]!;
  return Math.min(max, Math.max(min, raw));
}
