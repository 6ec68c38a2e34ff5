/** Schema pieces the scenario, signal and fault schemas share. */
import { Type } from '@sinclair/typebox';
import { DURATION_PATTERN, SIZE_PATTERN, parseDuration } from '../../gateway/core/units.js';

export const Duration = (description: string) => Type.String({ pattern: DURATION_PATTERN, description });
export const Size = (description: string) => Type.String({ pattern: SIZE_PATTERN, description });

/** A clock offset may be negative: `-2h`, `+90s`. */
export const SIGNED_DURATION_PATTERN = '^[+-]?\\d+(\\.\\d+)?(ms|s|m|h|d)$';
export const SignedDuration = (description: string) => Type.String({ pattern: SIGNED_DURATION_PATTERN, description });

export function parseSignedDuration(text: string): number {
  const sign = text.startsWith('-') ? -1 : 1;
  return sign * parseDuration(text.replace(/^[+-]/, ''));
}

/** `10%` of the cadence or an absolute `200ms`. */
export const JITTER_PATTERN = `^(\\d+(\\.\\d+)?%|${DURATION_PATTERN.slice(1, -1)})$`;

export function parseJitter(text: string, cadenceMs: number): number {
  return text.endsWith('%') ? (cadenceMs * Number.parseFloat(text)) / 100 : parseDuration(text);
}

/** Devices a timeline entry applies to: `all`, a fleet entry's name, or device id globs (`gh-0*`). */
export const Selector = Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
  description: '`all`, the name of a fleet entry, or device ids with `*` wildcards; a list matches any of them.',
});

export const Probability = Type.Number({ minimum: 0, maximum: 1, description: 'Share of the affected messages, drawn from the seeded stream. Default 1.' });
