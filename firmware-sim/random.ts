/**
 * Seeded randomness. Every device and metric gets its own stream, forked from
 * the run's seed by name, so adding a device or a metric does not change the
 * values any other one produces, and a failing run replays byte for byte.
 */

/** A PRNG returning floats in [0, 1). */
export type Random = () => number;

/** mulberry32: 32 bits of state, fast, and good enough for signal noise (not for secrets). */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the seed and the names: a stable 32-bit seed per stream. */
export function streamSeed(seed: number | string, ...names: readonly (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const part of [String(seed), ...names.map(String)]) {
    for (let i = 0; i < part.length; i++) {
      h ^= part.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    // a separator, so ("ab","c") and ("a","bc") differ
    h ^= 0xff;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function fork(seed: number | string, ...names: readonly (string | number)[]): Random {
  return mulberry32(streamSeed(seed, ...names));
}

/** Standard normal by Box-Muller; one value per call keeps the stream easy to reason about. */
export function gaussian(random: Random): number {
  // 1 - u keeps the logarithm away from 0
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function uniform(random: Random, min: number, max: number): number {
  return min + (max - min) * random();
}
