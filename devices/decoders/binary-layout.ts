/**
 * Declarative binary records: a layout such as
 *   [`uint8 -`, `int16le temperature / 100`, `uint16le humidity / 10`, `skip 2`, `bool door`]
 * reads fields in order and scales them. Layouts compile once at boot; decoding
 * is a loop of Buffer reads with a bounds check before any of them.
 */
import type { DecodeContext, DecodeResult, DecodedReading, Decoder } from '../../gateway/core/contracts.js';

type Reader = (b: Buffer, offset: number) => number;

const TYPES: Record<string, { size: number; read: Reader }> = {
  int8: { size: 1, read: (b, o) => b.readInt8(o) },
  uint8: { size: 1, read: (b, o) => b.readUInt8(o) },
  bool: { size: 1, read: (b, o) => b.readUInt8(o) },
  int16le: { size: 2, read: (b, o) => b.readInt16LE(o) },
  int16be: { size: 2, read: (b, o) => b.readInt16BE(o) },
  uint16le: { size: 2, read: (b, o) => b.readUInt16LE(o) },
  uint16be: { size: 2, read: (b, o) => b.readUInt16BE(o) },
  int32le: { size: 4, read: (b, o) => b.readInt32LE(o) },
  int32be: { size: 4, read: (b, o) => b.readInt32BE(o) },
  uint32le: { size: 4, read: (b, o) => b.readUInt32LE(o) },
  uint32be: { size: 4, read: (b, o) => b.readUInt32BE(o) },
  float32le: { size: 4, read: (b, o) => b.readFloatLE(o) },
  float32be: { size: 4, read: (b, o) => b.readFloatBE(o) },
  float64le: { size: 8, read: (b, o) => b.readDoubleLE(o) },
  float64be: { size: 8, read: (b, o) => b.readDoubleBE(o) },
};

export interface LayoutField {
  readonly offset: number;
  readonly type: string;
  /** undefined for `-` (read over, not reported). */
  readonly metric: string | undefined;
  readonly scale: number;
  readonly add: number;
}

export interface Layout {
  readonly fields: readonly LayoutField[];
  readonly length: number;
}

const FIELD = /^(?:skip (\d+)|(\w+) +(-|[A-Za-z_][\w.]*)(?: *([*/]) *(\d+(?:\.\d+)?))?(?: *([+-]) *(\d+(?:\.\d+)?))?)$/;

/** Compiles a layout; throws a TypeError naming the bad entry (the schema pattern catches most before this). */
export function compileLayout(entries: readonly string[]): Layout {
  const fields: LayoutField[] = [];
  let offset = 0;
  entries.forEach((entry, i) => {
    const m = FIELD.exec(entry.trim());
    if (!m) throw new TypeError(`layout entry ${i} ${JSON.stringify(entry)} is not \`<type> <name> [* or / n] [+ or - n]\` or \`skip N\``);
    if (m[1] !== undefined) {
      offset += Number(m[1]);
      return;
    }
    const type = TYPES[m[2]!];
    if (!type) throw new TypeError(`layout entry ${i}: unknown type ${JSON.stringify(m[2])}`);
    const factor = m[5] === undefined ? 1 : Number(m[5]);
    if (m[4] === '/' && factor === 0) throw new TypeError(`layout entry ${i}: division by zero`);
    const scale = m[4] === '/' ? 1 / factor : factor;
    const add = m[7] === undefined ? 0 : m[6] === '-' ? -Number(m[7]) : Number(m[7]);
    fields.push({ offset, type: m[2]!, metric: m[3] === '-' ? undefined : m[3]!, scale, add });
    offset += type.size;
  });
  return { fields, length: offset };
}

export class BinaryLayoutDecoder implements Decoder {
  readonly kind = 'binary';
  readonly #layout: Layout;
  readonly #exact: boolean;

  constructor(layout: readonly string[], exactLength = true) {
    this.#layout = compileLayout(layout);
    this.#exact = exactLength;
  }

  decode(payload: Buffer, context: DecodeContext): DecodeResult {
    const { length, fields } = this.#layout;
    if (payload.length < length || (this.#exact && payload.length !== length)) {
      return { ok: false, code: 'WRONG_LENGTH', message: `expected ${this.#exact ? '' : 'at least '}${length} bytes, got ${payload.length}` };
    }
    const device = context.params.device!;
    const readings: DecodedReading[] = [];
    for (const f of fields) {
      if (f.metric === undefined) continue;
      const raw = TYPES[f.type]!.read(payload, f.offset);
      if (f.type === 'bool') {
        readings.push({ device, metric: f.metric, value: raw !== 0 });
        continue;
      }
      // scaled integers print as 21.5, not 21.500000000000004
      const value = f.scale === 1 && f.add === 0 ? raw : Number((raw * f.scale + f.add).toPrecision(12));
      if (!Number.isFinite(value)) return { ok: false, code: 'NOT_A_NUMBER', message: `${f.metric} is not a finite number` };
      readings.push({ device, metric: f.metric, value });
    }
    return { ok: true, readings };
  }
}
