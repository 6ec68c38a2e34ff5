/** Decoder kinds by name. A new decoder is a file in this folder plus one line here. */
import type { Decoder } from '../../gateway/core/contracts.js';
import type { DecoderOptions, DeviceProfile } from '../profiles/schema.js';
import { JsonDecoder } from './json.js';
import { ValueDecoder } from './value.js';
import { CsvDecoder } from './csv.js';
import { KeyValueDecoder } from './key-value.js';
import { CsvHeaderDecoder } from './csv-header.js';
import { NmeaDecoder } from './nmea.js';
import { BinaryLayoutDecoder } from './binary-layout.js';

type Builders = { [K in DecoderOptions['kind']]: (o: Extract<DecoderOptions, { kind: K }>, profile: DeviceProfile) => Decoder };

const builders: Builders = {
  json: (o, p) => new JsonDecoder({ ...pickDefined({ fields: o.fields, exclude: o.exclude }), ...(p.timestamp ? { timestamp: p.timestamp } : {}) }),
  value: (o) => new ValueDecoder(o.metric),
  csv: (o, p) => new CsvDecoder(o.columns, o.separator ?? ',', p.timestamp?.field),
  kv: (o, p) => new KeyValueDecoder(o.pairSeparator, p.timestamp?.field),
  'csv-header': (o, p) => new CsvHeaderDecoder(o.separator ?? ',', p.timestamp?.field),
  nmea: (o) => new NmeaDecoder(pickDefined({ sentences: o.sentences, requireChecksum: o.requireChecksum })),
  binary: (o) => new BinaryLayoutDecoder(o.layout, o.exactLength),
};

export function createDecoder(profile: DeviceProfile): Decoder {
  const options = profile.decoder;
  return (builders[options.kind] as (o: DecoderOptions, p: DeviceProfile) => Decoder)(options, profile);
}

function pickDefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never;
}
