/**
 * Signal models: what a simulated sensor measures over time. A metric takes a
 * list of steps, which run in order on a running value that starts at 0,
 * so generators (constant, sine, walk, ramp, step, drift, square) add to it and
 * shapers (noise, spikes, stuck, quantize, clamp) transform it:
 *   [{kind: sine, mean: 22, amplitude: 3, period: 24h}, {kind: noise, stddev: 0.2}, {kind: quantize, step: 0.1}]
 */
import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../../gateway/core/units.js';
import { Duration } from '../scenario/common.js';

// Members of a union get no defaults from Value.Default (it cannot tell which member is meant),
// so defaulted fields are optional and the compiler applies the same defaults.

const O = { additionalProperties: false } as const;

export const ConstantSignal = Type.Object({ kind: Type.Literal('constant'), value: Type.Number() }, { ...O, description: 'Adds a fixed value.' });

export const SineSignal = Type.Object(
  {
    kind: Type.Literal('sine'),
    amplitude: Type.Number(),
    period: Duration('One full cycle.'),
    mean: Type.Optional(Type.Number({ default: 0, description: 'Centre line.' })),
    phase: Type.Optional(Type.Number({ default: 0, description: 'Degrees; fleet variation adds a per-device shift.' })),
  },
  { ...O, description: 'Adds mean + amplitude * sin(2 pi t / period + phase).' },
);

export const WalkSignal = Type.Object(
  {
    kind: Type.Literal('walk'),
    min: Type.Number(),
    max: Type.Number(),
    step: Type.Number({ exclusiveMinimum: 0, description: 'Largest change per sample (uniform in +-step).' }),
    start: Type.Optional(Type.Number({ description: 'Default: the middle of min and max.' })),
  },
  { ...O, description: 'A random walk reflected at its bounds, so it never leaves [min, max].' },
);

export const NoiseSignal = Type.Object({ kind: Type.Literal('noise'), stddev: Type.Number({ minimum: 0 }) }, { ...O, description: 'Adds Gaussian noise.' });

export const StepSignal = Type.Object(
  { kind: Type.Literal('step'), at: Duration('When the step happens, from the start of the run.'), from: Type.Optional(Type.Number({ default: 0 })), to: Type.Number() },
  { ...O, description: 'Adds `from` before `at` and `to` after.' },
);

export const RampSignal = Type.Object(
  {
    kind: Type.Literal('ramp'),
    from: Type.Optional(Type.Number({ default: 0 })),
    to: Type.Number(),
    start: Type.Optional(Type.String({ default: '0s', pattern: DURATION_PATTERN, description: 'When the ramp starts.' })),
    over: Duration('How long the ramp takes; it holds `to` after.'),
  },
  { ...O, description: 'Adds a linear ramp from `from` to `to`.' },
);

export const SpikesSignal = Type.Object(
  {
    kind: Type.Literal('spikes'),
    probability: Type.Number({ minimum: 0, maximum: 1, description: 'Chance per sample.' }),
    magnitude: Type.Number({ description: 'Added (or subtracted, at random) on a spike.' }),
  },
  { ...O, description: 'Occasional single-sample outliers.' },
);

export const DriftSignal = Type.Object(
  { kind: Type.Literal('drift'), rate: Type.Number(), per: Type.Optional(Type.String({ default: '1h', pattern: DURATION_PATTERN })) },
  { ...O, description: 'Adds rate * t / per: a sensor slowly going out of calibration.' },
);

export const StuckSignal = Type.Object(
  {
    kind: Type.Literal('stuck'),
    at: Duration('When the value freezes.'),
    value: Type.Optional(Type.Number({ description: 'Default: the value at `at`.' })),
    for: Type.Optional(Duration('Default: to the end.')),
  },
  { ...O, description: 'Holds the value: a frozen sensor that still reports.' },
);

export const QuantizeSignal = Type.Object(
  { kind: Type.Literal('quantize'), step: Type.Number({ exclusiveMinimum: 0 }) },
  { ...O, description: 'Rounds to a multiple of step, as an ADC or a 0.1-degree sensor does.' },
);

export const ClampSignal = Type.Object(
  { kind: Type.Literal('clamp'), min: Type.Optional(Type.Number()), max: Type.Optional(Type.Number()) },
  { ...O, description: 'Limits the value, as a sensor saturates.' },
);

export const SquareSignal = Type.Object(
  {
    kind: Type.Literal('square'),
    period: Duration('One full cycle.'),
    duty: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: 'Share of the period at `high`.' })),
    low: Type.Optional(Type.Number({ default: 0 })),
    high: Type.Optional(Type.Number({ default: 1 })),
  },
  { ...O, description: 'Adds a square wave: a door, a pump, a button held down.' },
);

export const SignalStep = Type.Union([
  ConstantSignal,
  SineSignal,
  WalkSignal,
  NoiseSignal,
  StepSignal,
  RampSignal,
  SpikesSignal,
  DriftSignal,
  StuckSignal,
  QuantizeSignal,
  ClampSignal,
  SquareSignal,
]);
export type SignalStep = Static<typeof SignalStep>;

// Always a list: a union of "one or a list" would hide the real error behind "not allowed here".
export const SignalSpec = Type.Array(SignalStep, { minItems: 1, description: 'Signal steps applied in order to a running value starting at 0.' });
export type SignalSpec = Static<typeof SignalSpec>;
