import { describe, expect, it } from 'vitest';
import { isoTime } from '../rules/template.js';

// isoTime keeps the date of the previous call; it must still equal Date#toISOString for any input order.
describe('isoTime', () => {
  it('matches Date#toISOString, within a day, across days, and at the edges', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const base = Date.parse('2024-01-01T00:00:00Z');
    const cases: number[] = [0, -0, -0.5, 0.9, -1, 1, -86_400_000, -86_400_001, 86_399_999, 86_400_000, base - 1, base, base + 0.999, 253_402_300_799_999, -62_167_219_200_000];
    for (let i = 0; i < 20_000; i++) {
      const r = random();
      cases.push(r < 0.5 ? base + Math.floor(random() * 3 * 86_400_000) : r < 0.8 ? Math.floor((random() - 0.5) * 4e12) : (random() - 0.5) * 2e13);
    }
    for (const ts of cases) expect(isoTime(ts), String(ts)).toBe(new Date(ts).toISOString());
    for (const ts of [253_402_300_800_000, -62_167_219_200_001, 8.64e15]) expect(isoTime(ts)).toBe(new Date(ts).toISOString());
  });

  it('throws on an invalid time, as Date does', () => {
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
    expect(() => isoTime(8.64e15 + 1)).toThrow(RangeError);
  });
});
