/**
 * GPIO settings: a device profile's `transport: { kind: gpio }` says what a
 * button or relay is (direction, edges, debounce, polarity, safe state), and
 * the `gpio:` section of weir.yaml picks the backend and binds BCM pins.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../../gateway/core/units.js';

const Duration = (description: string) => Type.String({ pattern: DURATION_PATTERN, description });

const PinSettings = {
  edge: Type.Optional(
    Type.Union([Type.Literal('both'), Type.Literal('rising'), Type.Literal('falling')], {
      description: 'Inputs: which settled changes become readings (`rising` = became active). Default both.',
    }),
  ),
  debounce: Type.Optional(Duration('Inputs: a level must hold this long before it counts (contact bounce). Default 0.')),
  activeLow: Type.Optional(Type.Boolean({ description: 'Low level means active/on (buttons to ground with a pull-up, most relay boards). Default false.' })),
  bias: Type.Optional(
    Type.Union([Type.Literal('as-is'), Type.Literal('pull-up'), Type.Literal('pull-down'), Type.Literal('disable')], {
      description: 'Inputs: internal pull resistor; applied by the libgpiod backend only (sysfs cannot set it). Default as-is.',
    }),
  ),
  safeState: Type.Optional(
    Type.Union([Type.Literal('off'), Type.Literal('on')], { description: 'Outputs: logical state at start and on shutdown. Default off.' }),
  ),
};

/** `transport:` of a GPIO device profile. */
export const GpioTransport = Type.Object(
  {
    kind: Type.Literal('gpio'),
    direction: Type.Union([Type.Literal('in'), Type.Literal('out')], { description: '`in`: buttons, reed contacts, PIR; `out`: relays, LEDs.' }),
    ...PinSettings,
  },
  { additionalProperties: false, description: 'A device on one GPIO line.' },
);
export type GpioTransport = Static<typeof GpioTransport>;

export const GpioPinConfig = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9_.:-]+$', description: 'Names the pin in logs and, for outputs, as the actuator rules switch.' }),
    pin: Type.Integer({ minimum: 0, maximum: 511, description: 'BCM (Broadcom) number as on pinout.xyz, not the header position; the sysfs offset is added by weir.' }),
    profile: Type.String({ description: 'A device profile with `transport: { kind: gpio }`.' }),
    device: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.:-]+$', description: 'Device id of its readings; default the name.' })),
    ...PinSettings,
  },
  { additionalProperties: false },
);
export type GpioPinConfig = Static<typeof GpioPinConfig>;

export const GpioBackendName = Type.Union(
  [Type.Literal('auto'), Type.Literal('sysfs'), Type.Literal('libgpiod'), Type.Literal('memory'), Type.Literal('none')],
  {
    default: 'auto',
    description: '`auto`: sysfs (onoff) when /sys/class/gpio is usable, else the libgpiod tools (`gpiomon`, `gpioset`), else none. `memory` is a simulated chip.',
  },
);
export type GpioBackendName = Static<typeof GpioBackendName>;

/** The `gpio:` section of weir.yaml. */
export const GpioConfig = Type.Object(
  {
    backend: GpioBackendName,
    chip: Type.Optional(
      Type.String({ description: 'Chip label (`pinctrl-rp1`) or name (`gpiochip4`); default: the first chip with a Raspberry Pi pin controller label.' }),
    ),
    pollInterval: Type.String({
      pattern: DURATION_PATTERN,
      default: '20ms',
      description: 'sysfs inputs whose edges cannot be watched (no interrupt support) are read this often instead.',
    }),
    pins: Type.Array(GpioPinConfig, { default: [] }),
  },
  { additionalProperties: false, default: {}, description: 'GPIO inputs and outputs.' },
);
export type GpioConfig = Static<typeof GpioConfig>;
