/** Human-readable durations and sizes, as config files write them: `30s`, `512MiB`. */

export const DURATION_PATTERN = '^\\d+(\\.\\d+)?(ms|s|m|h|d)$';
export const SIZE_PATTERN = '^\\d+(\\.\\d+)?(B|KB|KiB|MB|MiB|GB|GiB)$';

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_BYTES: Record<string, number> = {
  B: 1, KB: 1e3, KiB: 1024, MB: 1e6, MiB: 1024 ** 2, GB: 1e9, GiB: 1024 ** 3,
};

const durationRe = new RegExp(DURATION_PATTERN);
const sizeRe = new RegExp(SIZE_PATTERN);

/** Milliseconds in a duration string; throws on a string the schema would have rejected. */
export function parseDuration(text: string): number {
  const m = durationRe.exec(text);
  if (!m) throw new RangeError(`not a duration: ${JSON.stringify(text)} (use e.g. 500ms, 30s, 5m, 1h)`);
  return Math.round(Number.parseFloat(text) * DURATION_MS[m[2]!]!);
}

/** Bytes in a size string; throws on a string the schema would have rejected. */
export function parseSize(text: string): number {
  const m = sizeRe.exec(text);
  if (!m) throw new RangeError(`not a size: ${JSON.stringify(text)} (use e.g. 512B, 256KiB, 64MiB)`);
  return Math.floor(Number.parseFloat(text) * SIZE_BYTES[m[2]!]!);
}
