/**
 * Serial settings in two places, one definition: a device profile's
 * `transport: { kind: serial }` says how a device type talks (line settings,
 * framing, checksum, polling), and a `serial:` port entry in weir.yaml binds one
 * physical port to a profile and a device id, overriding what it must.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../../gateway/core/units.js';

// Defaults inside these unions are applied in code, not by `default:`: TypeBox fills a union's
// defaults only when the whole value is valid, so one bad field would also report "is required".
const Duration = (description: string) => Type.String({ pattern: DURATION_PATTERN, description });
const Hex = (description: string) => Type.String({ pattern: '^([0-9A-Fa-f]{2})+$', description });
const MaxLength = Type.Integer({ minimum: 1, maximum: 1_048_576, description: 'Longest frame accepted; longer ones are counted and dropped. Default 4096.' });

export const Framing = Type.Union(
  [
    Type.Object({ kind: Type.Literal('lf'), maxLength: Type.Optional(MaxLength) }, { additionalProperties: false, description: 'Lines ending in `\\n`; a `\\r` before it is dropped too.' }),
    Type.Object({ kind: Type.Literal('crlf'), maxLength: Type.Optional(MaxLength) }, { additionalProperties: false, description: 'Lines ending in `\\r\\n` exactly.' }),
    Type.Object(
      {
        kind: Type.Literal('fixed'),
        length: Type.Integer({ minimum: 1, maximum: 65_536, description: 'Bytes per frame, sync bytes included.' }),
        sync: Type.Optional(Hex('Bytes every frame starts with (`aa55`); lets the reader find frame starts again after noise.')),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        kind: Type.Literal('length-prefixed'),
        size: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(4)], { description: 'Bytes of the length field. Default 1.' })),
        endian: Type.Optional(Type.Union([Type.Literal('be'), Type.Literal('le')], { description: 'Default be.' })),
        sync: Type.Optional(Hex('Bytes before the length field in every frame.')),
        adjust: Type.Optional(Type.Integer({ description: 'Added to the length field to get the payload length: -2 when the field counts its own 2 bytes, +2 to take a trailing CRC it does not count. Default 0.' })),
        maxLength: Type.Optional(MaxLength),
      },
      { additionalProperties: false, description: 'A length field, then that many payload bytes (sync and length are not in the frame handed on).' },
    ),
    Type.Object({ kind: Type.Literal('slip'), maxLength: Type.Optional(MaxLength) }, { additionalProperties: false, description: 'RFC 1055 SLIP: frames end with 0xC0.' }),
    Type.Object({ kind: Type.Literal('cobs'), maxLength: Type.Optional(MaxLength) }, { additionalProperties: false, description: 'COBS-encoded frames, each ending with 0x00.' }),
  ],
  { description: 'How the byte stream is cut into frames.' },
);
export type Framing = Static<typeof Framing>;

export const Checksum = Type.Union(
  [
    Type.Object({ kind: Type.Literal('nmea') }, { additionalProperties: false, description: 'NMEA 0183 `*hh`: XOR of the bytes between `$` and `*`; required on every sentence.' }),
    Type.Object(
      {
        kind: Type.Literal('crc8'),
        polynomial: Type.Optional(Type.Integer({ minimum: 0, maximum: 255, description: 'Default 0x07 (CRC-8/SMBUS); Sensirion sensors use 0x31 with init 0xFF.' })),
        init: Type.Optional(Type.Integer({ minimum: 0, maximum: 255, description: 'Default 0.' })),
      },
      { additionalProperties: false, description: 'The last byte of the frame is a CRC-8 of the bytes before it; it is removed before decoding.' },
    ),
    Type.Object(
      {
        kind: Type.Literal('crc16'),
        variant: Type.Optional(
          Type.Union([Type.Literal('modbus'), Type.Literal('ccitt-false'), Type.Literal('xmodem')], {
            description: '`modbus` (low byte first on the wire; the default), `ccitt-false` and `xmodem` (high byte first).',
          }),
        ),
      },
      { additionalProperties: false, description: 'The last two bytes are a CRC-16 of the bytes before them; removed before decoding.' },
    ),
  ],
  { description: 'Frames whose checksum does not match are counted and dropped.' },
);
export type Checksum = Static<typeof Checksum>;

export const Poll = Type.Object(
  {
    request: Type.String({ minLength: 1, description: 'What to write each time: text (YAML escapes such as `"\\r\\n"` work) or hex with `encoding: hex`.' }),
    encoding: Type.Optional(Type.Union([Type.Literal('text'), Type.Literal('hex')], { description: 'Default text.' })),
    every: Duration('How often to ask.'),
    timeout: Duration('How long to wait for the answer; later answers are counted and dropped so they cannot pass for the next one.'),
  },
  { additionalProperties: false, description: 'Request/response devices: write `request` every `every`, take the next frame as the answer.' },
);
export type Poll = Static<typeof Poll>;

const LineSettings = {
  baud: Type.Optional(Type.Integer({ minimum: 50, maximum: 4_000_000, description: 'Bits per second; default 9600.' })),
  dataBits: Type.Optional(Type.Union([Type.Literal(5), Type.Literal(6), Type.Literal(7), Type.Literal(8)], { description: 'Default 8.' })),
  parity: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('even'), Type.Literal('odd')], { description: 'Default none. (mark and space parity are not supported by serialport on Linux.)' })),
  stopBits: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(1.5), Type.Literal(2)], { description: 'Default 1.' })),
  framing: Type.Optional(Framing),
  checksum: Type.Optional(Checksum),
  headerLine: Type.Optional(
    Type.Boolean({ description: 'The device prints a CSV header line (typically after a reset); weir keeps the latest and hands it with every data line to a `csv-header` decoder.' }),
  ),
  poll: Type.Optional(Poll),
  silence: Type.Optional(Duration('Reopen the port when no byte arrived for this long (a USB adapter that stops without closing). Default: off.')),
};

/** `transport:` of a serial device profile: how this device type talks. */
export const SerialTransport = Type.Object({ kind: Type.Literal('serial'), ...LineSettings }, { additionalProperties: false, description: 'A device on a serial port.' });
export type SerialTransport = Static<typeof SerialTransport>;

/** One entry of `serial:` in weir.yaml. */
export const SerialPortConfig = Type.Object(
  {
    path: Type.String({ minLength: 1, description: 'Device path; prefer the stable `/dev/serial/by-id/...` name, which survives replugging into another USB socket.' }),
    device: Type.String({ pattern: '^[A-Za-z0-9_.:-]+$', description: 'Device id of the readings from this port.' }),
    profile: Type.String({ description: 'Name of the device profile that decodes this port (its `transport` gives the defaults below).' }),
    ...LineSettings,
    reopen: Type.Optional(
      Type.Object(
        {
          initial: Duration('First wait before reopening a port that closed or could not be opened. Default 500ms.'),
          max: Duration('Longest wait between attempts; the wait doubles up to it. Default 30s.'),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, description: 'A serial port bound to a device profile and a device id.' },
);
export type SerialPortConfig = Static<typeof SerialPortConfig>;
