/**
 * Signal models: deterministic under a seed, and the right shape (sine period,
 * ramp end value, walk bounds, quantization steps, and the rest).
 */
import { describe, expect, it } from 'vitest';
import { compileSignal } from '../firmware-sim/signals/compile.js';
import type { SignalStep } from '../firmware-sim/signals/schema.js';
import { fork, gaussian, mulberry32, streamSeed } from '../firmware-sim/random.js';

const series = (steps: SignalStep[], seed: number | string = 1, n = 200, dt = 1000, variation = {}) => {
  const s = compileSignal(steps, fork(seed, 'dev', 'metric'), variation);
  return Array.from({ length: n }, (_, i) => s(i * dt));
};

describe('seeded randomness', () => {
  it('mulberry32 gives the same stream for the same seed and a different one otherwise', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('streams are forked by name, so ("ab","c") and ("a","bc") differ and adding a device changes no other', () => {
    expect(streamSeed(1, 'ab', 'c')).not.toBe(streamSeed(1, 'a', 'bc'));
    expect(streamSeed('seed', 'gh-01', 'temperature')).toBe(streamSeed('seed', 'gh-01', 'temperature'));
  });

  it('Box-Muller noise has mean 0 and standard deviation 1', () => {
    const r = mulberry32(7);
    const xs = Array.from({ length: 20_000 }, () => gaussian(r));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
  });
});

describe('signal models', () => {
  it('the same seed replays the same values; another seed does not', () => {
    const steps: SignalStep[] = [{ kind: 'walk', min: 0, max: 10, step: 1 }, { kind: 'noise', stddev: 0.5 }, { kind: 'spikes', probability: 0.1, magnitude: 5 }];
    expect(series(steps, 9)).toEqual(series(steps, 9));
    expect(series(steps, 9)).not.toEqual(series(steps, 10));
  });

  it('constant adds its value', () => {
    expect(series([{ kind: 'constant', value: 3 }, { kind: 'constant', value: 4 }], 1, 3)).toEqual([7, 7, 7]);
  });

  it('a sine repeats after its period, peaks a quarter in, and honours mean, amplitude and phase', () => {
    const sine: SignalStep = { kind: 'sine', mean: 20, amplitude: 5, period: '60s' };
    const v = series([sine], 1, 121, 1000);
    expect(v[0]).toBeCloseTo(20, 9);
    expect(v[15]).toBeCloseTo(25, 9);
    expect(v[45]).toBeCloseTo(15, 9);
    for (let i = 0; i < 60; i++) expect(v[i + 60]).toBeCloseTo(v[i]!, 9);
    expect(Math.max(...v)).toBeCloseTo(25, 9);
    expect(Math.min(...v)).toBeCloseTo(15, 9);
    // 90 degrees of phase, or a quarter period of device variation, moves the peak to t = 0
    expect(series([{ ...sine, phase: 90 }], 1, 1)[0]).toBeCloseTo(25, 9);
    expect(series([sine], 1, 1, 1000, { phase: 0.25 })[0]).toBeCloseTo(25, 9);
  });

  it('a ramp starts at `from`, ends exactly at `to` after `over`, and holds it', () => {
    const v = series([{ kind: 'ramp', from: 10, to: 90, start: '10s', over: '20s' }], 1, 60);
    expect(v[0]).toBe(10);
    expect(v[10]).toBe(10);
    expect(v[20]).toBe(50);
    expect(v[30]).toBe(90);
    expect(v[59]).toBe(90);
    for (let i = 11; i <= 30; i++) expect(v[i]! - v[i - 1]!).toBeCloseTo(4, 9);
  });

  it('a random walk never leaves its bounds, moves at most `step` per sample, and wanders', () => {
    const v = series([{ kind: 'walk', min: -2, max: 3, step: 0.7 }], 'walk', 5000);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...v)).toBeLessThanOrEqual(3);
    expect(v[0]).toBe(0.5); // starts in the middle
    for (let i = 1; i < v.length; i++) expect(Math.abs(v[i]! - v[i - 1]!)).toBeLessThanOrEqual(0.7 + 1e-9);
    expect(Math.max(...v) - Math.min(...v)).toBeGreaterThan(4);
  });

  it('quantize puts every value on a multiple of its step, printed without float noise', () => {
    const v = series([{ kind: 'sine', amplitude: 7, period: '37s' }, { kind: 'noise', stddev: 1 }, { kind: 'quantize', step: 0.1 }], 3, 500);
    for (const x of v) {
      expect(Math.abs(x * 10 - Math.round(x * 10))).toBeLessThan(1e-9);
      expect(String(x)).toMatch(/^-?\d+(\.\d)?$/);
    }
    const halves = series([{ kind: 'walk', min: 0, max: 10, step: 1 }, { kind: 'quantize', step: 0.5 }], 3, 500);
    expect(halves.every((x) => Number.isInteger(x * 2))).toBe(true);
    expect(new Set(halves).size).toBeGreaterThan(5);
  });

  it('a step switches at `at`; drift grows linearly; clamp limits', () => {
    expect(series([{ kind: 'step', at: '3s', from: 1, to: 5 }], 1, 6)).toEqual([1, 1, 1, 5, 5, 5]);
    const d = series([{ kind: 'drift', rate: 6, per: '1m' }], 1, 61);
    expect(d[60]).toBeCloseTo(6, 9);
    expect(d[30]).toBeCloseTo(3, 9);
    expect(series([{ kind: 'ramp', to: 100, over: '10s' }, { kind: 'clamp', min: 20, max: 50 }], 1, 11)).toEqual([20, 20, 20, 30, 40, 50, 50, 50, 50, 50, 50]);
  });

  it('stuck freezes the value at `at` for `for`, then lets go', () => {
    const v = series([{ kind: 'ramp', to: 10, over: '10s' }, { kind: 'stuck', at: '3s', for: '4s' }], 1, 10);
    expect(v).toEqual([0, 1, 2, 3, 3, 3, 3, 7, 8, 9]);
    expect(series([{ kind: 'constant', value: 1 }, { kind: 'stuck', at: '1s', value: -5 }], 1, 3)).toEqual([1, -5, -5]);
  });

  it('spikes hit about `probability` of the samples by `magnitude`, up or down', () => {
    const v = series([{ kind: 'constant', value: 10 }, { kind: 'spikes', probability: 0.1, magnitude: 4 }], 5, 5000);
    const spikes = v.filter((x) => x !== 10);
    expect(spikes.every((x) => x === 6 || x === 14)).toBe(true);
    expect(spikes.length / v.length).toBeGreaterThan(0.08);
    expect(spikes.length / v.length).toBeLessThan(0.12);
    expect(spikes.some((x) => x === 6) && spikes.some((x) => x === 14)).toBe(true);
  });

  it('a square wave spends `duty` of its period high', () => {
    const v = series([{ kind: 'square', period: '10s', duty: 0.3, low: 0, high: 1 }], 1, 100);
    expect(v.filter((x) => x === 1).length).toBe(30);
    expect(v.slice(0, 10)).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('steps combine in order: noise after quantize is not quantized, quantize after noise is', () => {
    const a = series([{ kind: 'constant', value: 5 }, { kind: 'quantize', step: 1 }, { kind: 'noise', stddev: 0.3 }], 2, 50);
    const b = series([{ kind: 'constant', value: 5 }, { kind: 'noise', stddev: 0.3 }, { kind: 'quantize', step: 1 }], 2, 50);
    expect(a.some((x) => !Number.isInteger(x))).toBe(true);
    expect(b.every((x) => Number.isInteger(x))).toBe(true);
  });

  it('a per-device offset is added before the steps run, so quantize still applies', () => {
    const v = series([{ kind: 'constant', value: 20 }, { kind: 'quantize', step: 0.5 }], 1, 1, 1000, { offset: 0.3 });
    expect(v[0]).toBe(20.5);
  });
});
