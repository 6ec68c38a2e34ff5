import { describe, expect, it } from 'vitest';
import { integerText } from '../gateway/core/number-text.js';
import { RecordIds } from '../gateway/core/record-ids.js';
import { compileTemplate } from '../rules/template.js';

// integerText stands in for String(n) where a number is printed once (ids, timestamps, alert values):
// the text must be String's, digit for digit, or ids and messages would change.
describe('integerText', () => {
  it('prints every integer as String does: -0, around 2^31 and 2^53, up to 1e21 and beyond', () => {
    let seed = 11;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const cases: number[] = [0, -0, 1, -1, 9, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e20, 999_999_999_999_999_900_000, 1e21, -1e21, 1e22, 1.7976931348623157e308, Number.MAX_SAFE_INTEGER];
    for (let i = 0; i < 20_000; i++) {
      const r = random();
      cases.push(r < 0.4 ? Math.floor(random() * 1e6) : r < 0.7 ? Math.floor((random() - 0.5) * 2e15) : Math.floor((random() - 0.5) * 10 ** (random() * 30)));
    }
    for (const n of cases) expect(integerText(n), `${n}`).toBe(String(n));
  });

  it('leaves anything that is not an integer to String', () => {
    for (const n of [0.5, -0.5, 21.4, 1e-7, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) expect(integerText(n)).toBe(String(n));
  });

  it('keeps record ids and alert messages as they were', () => {
    const ids = new RecordIds('gw', 3);
    expect([ids.next(), ids.next()]).toEqual(['gw-3-1', 'gw-3-2']);
    const t = compileTemplate('{device}: {value} / {value:1} / {n}', () => true);
    if (!t.ok) throw new Error(t.message);
    expect(t.template.render({ device: 'd1', value: 1001, n: -0 })).toBe('d1: 1001 / 1001.0 / 0');
    expect(t.template.render({ device: 'd1', value: -12345678901, n: 21.4 })).toBe('d1: -12345678901 / -12345678901.0 / 21.4');
  });
});
