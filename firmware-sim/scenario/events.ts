/**
 * Timeline entries: at a time, something happens to some devices, optionally
 * for a while. Faults change what devices send or whether it arrives; signal
 * events (ramp, set, stuck) change what they measure.
 */
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { SignalSpec } from '../signals/schema.js';
import { Duration, Probability, Selector, SignedDuration, Size } from './common.js';

const common = {
  at: Duration('When, from the start of the run.'),
  devices: Type.Optional(Selector),
  for: Type.Optional(Duration('How long; default: to the end of the run (bursts are instant without it).')),
};

function event<K extends string, P extends TProperties>(kind: K, props: P, description: string) {
  return Type.Object({ kind: Type.Literal(kind), ...common, ...props }, { additionalProperties: false, description });
}

const probability = { probability: Type.Optional(Probability) };

export const SimEvent = Type.Union([
  event('silence', {}, 'The devices stop sending (they stay connected): a hung sensor task.'),
  event('link-drop', {}, 'The network goes away: MQTT sockets die without DISCONNECT (the will fires), serial ptys are unplugged; reconnects wait for the end.'),
  event('flap', { up: Duration('Link up this long...'), down: Duration('...then down this long, over and over.') }, 'A link that keeps dropping.'),
  event(
    'burst',
    {
      count: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Extra messages sent at once, 1 ms apart in device time.' })),
      factor: Type.Optional(Type.Number({ exclusiveMinimum: 1, maximum: 10_000, description: 'Or: send this many times faster for `for`.' })),
    },
    'A backlog flushed at once, or a chatty spell.',
  ),
  event('duplicate', probability, 'Messages sent twice, as firmware retrying without message ids does.'),
  event('out-of-order', { depth: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 1, description: 'A held message goes out after this many later ones.' })), ...probability }, 'Messages overtaken by later ones.'),
  event(
    'skew',
    {
      offset: Type.Optional(SignedDuration('The device clock is off by this much (`-2h`, `+90s`).')),
      unset: Type.Optional(Type.Boolean({ description: 'No network time since boot: the clock counts from 1970-01-01 at `at`, as a Pi without RTC does.' })),
    },
    'Device timestamps that are wrong.',
  ),
  event('malformed', probability, 'Payloads the profile decoder rejects (truncated JSON, missing columns, unreadable sentences).'),
  event(
    'corrupt',
    { mode: Type.Optional(Type.Union([Type.Literal('bytes'), Type.Literal('checksum')], { default: 'bytes', description: '`bytes`: a payload byte flipped on the wire; `checksum`: intact payload, wrong checksum.' })), ...probability },
    'Line noise on a serial cable (or bit flips in an MQTT payload).',
  ),
  event('oversized', { size: Size('Payload size to grow to (`64KiB`).'), ...probability }, 'Messages far larger than normal.'),
  event('stuck', { metric: Type.String({ minLength: 1 }), value: Type.Optional(Type.Number({ description: 'Default: the value at `at`.' })) }, 'A metric frozen at a value.'),
  event('ramp', { metric: Type.String({ minLength: 1 }), to: Type.Number(), over: Duration('Ramp time; the value holds `to` after.') }, 'A metric moves from wherever it is to `to`: a failing cooler, a fire.'),
  event('set', { metric: Type.String({ minLength: 1 }), signal: SignalSpec }, 'A metric follows a new signal (its times still count from the start of the run).'),
]);
export type SimEvent = Static<typeof SimEvent>;
export type SimEventKind = SimEvent['kind'];
/** Kinds that count as faults in the summary. */
export const FAULT_KINDS = ['silence', 'link-drop', 'flap', 'burst', 'duplicate', 'out-of-order', 'skew', 'malformed', 'corrupt', 'oversized'] as const;
