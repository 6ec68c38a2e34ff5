/**
 * Compiles signal steps into a sampler. Samplers are stateful (a walk remembers
 * where it is, `stuck` what it froze at), so each device and metric gets its own,
 * fed with its own random stream and sampled with non-decreasing times.
 */
import { parseDuration } from '../../gateway/core/units.js';
import { gaussian, uniform, type Random } from '../random.js';
import type { SignalStep } from './schema.js';

/** Value at `t` ms after the start of the run. */
export type Sampler = (t: number) => number;

type Stage = (v: number, t: number) => number;

export interface Variation {
  /** Shift of periodic steps (sine, square) as a fraction of their period. */
  readonly phase?: number;
  /** Added before the steps run, so a later quantize or clamp still applies to it. */
  readonly offset?: number;
}

export function compileSignal(steps: readonly SignalStep[], random: Random, variation: Variation = {}): Sampler {
  const stages = steps.map((s) => stage(s, random, variation.phase ?? 0));
  const offset = variation.offset ?? 0;
  return (t) => {
    let v = offset;
    for (const s of stages) v = s(v, t);
    return v;
  };
}

function stage(s: SignalStep, random: Random, phase: number): Stage {
  switch (s.kind) {
    case 'constant':
      return (v) => v + s.value;
    case 'sine': {
      const period = parseDuration(s.period);
      const shift = ((s.phase ?? 0) / 360 + phase) * 2 * Math.PI;
      return (v, t) => v + (s.mean ?? 0) + s.amplitude * Math.sin((2 * Math.PI * t) / period + shift);
    }
    case 'square': {
      const period = parseDuration(s.period);
      const duty = s.duty ?? 0.5;
      const shift = phase * period;
      return (v, t) => {
        // modulo on milliseconds, not on fractions: 5.3 % 1 is 0.2999..., which would flip an edge
        const into = (((t + shift) % period) + period) % period;
        return v + (into < duty * period ? (s.high ?? 1) : (s.low ?? 0));
      };
    }
    case 'walk':
      return walk(s.min, s.max, s.step, s.start ?? (s.min + s.max) / 2, random);
    case 'noise':
      return (v) => v + s.stddev * gaussian(random);
    case 'step': {
      const at = parseDuration(s.at);
      return (v, t) => v + (t < at ? (s.from ?? 0) : s.to);
    }
    case 'ramp': {
      const start = parseDuration(s.start ?? '0s');
      const over = parseDuration(s.over);
      const from = s.from ?? 0;
      return (v, t) => v + lerp(from, s.to, over === 0 ? 1 : (t - start) / over);
    }
    case 'spikes':
      // two draws every sample, spike or not, so the stream stays aligned whatever the outcome
      return (v) => {
        const hit = random() < s.probability;
        const sign = random() < 0.5 ? -1 : 1;
        return hit ? v + sign * s.magnitude : v;
      };
    case 'drift': {
      const per = parseDuration(s.per ?? '1h');
      return (v, t) => v + (s.rate * t) / per;
    }
    case 'stuck':
      return stuck(parseDuration(s.at), s.for === undefined ? Infinity : parseDuration(s.for), s.value);
    case 'quantize':
      // toFixed-free rounding that still prints 21.3, not 21.300000000000001
      return (v) => roundTo(Math.round(v / s.step) * s.step, decimalsOf(s.step));
    case 'clamp':
      return (v) => Math.min(s.max ?? Infinity, Math.max(s.min ?? -Infinity, v));
  }
}

function walk(min: number, max: number, step: number, start: number, random: Random): Stage {
  let x = Math.min(max, Math.max(min, start));
  let first = true;
  return (v) => {
    if (first) first = false;
    else {
      x += uniform(random, -step, step);
      // reflect rather than clamp: a clamped walk sticks to its bounds
      if (x > max) x = Math.max(min, 2 * max - x);
      if (x < min) x = Math.min(max, 2 * min - x);
    }
    return v + x;
  };
}

function stuck(at: number, forMs: number, fixed: number | undefined): Stage {
  let held: number | undefined;
  return (v, t) => {
    if (t < at || t >= at + forMs) return v;
    held ??= fixed ?? v;
    return held;
  };
}

export function lerp(from: number, to: number, f: number): number {
  const k = Math.min(1, Math.max(0, f));
  return from + (to - from) * k;
}

export function roundTo(v: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
}

/** Decimals a step needs: 0.1 -> 1, 0.25 -> 2, 5 -> 0. */
export function decimalsOf(step: number): number {
  const text = String(step);
  const exp = /e-(\d+)$/.exec(text);
  if (exp) return Number(exp[1]);
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}
