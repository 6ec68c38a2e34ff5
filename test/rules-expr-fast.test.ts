import { describe, expect, it } from 'vitest';
import { compileCondition, READING_VARIABLES, test, testReading, type VariableSet } from '../rules/expr.js';
import { ASK_CEL } from '../rules/expr-fast.js';

// The shortcut must never disagree with cel-js: same value, or cel-js runs and throws its own error.
const VARS: VariableSet = { ...READING_VARIABLES, a: 'map', rate: 'double', avg: 'double' };

const IN_SUBSET = [
  'value > 80.0', 'value > 80', 'value >= 80', 'value < 12.0', 'value <= -5.5', '80 < value', 'value > 1e3',
  'value == 80.0', 'value == 80', 'value != 80.0', 'value == "open"', 'value != "open"', 'value == true', 'value != false',
  'value + 1 > 81', '2 * value > 100', 'value * 2.0 > 100.0', 'value - 0.0 == value', 'value / 0.0 > 1.0', '(value - 1.0) / 2.0 < 40.0',
  '-value < -20.0', '!(value <= 70.0)', 'value == value',
  'value > 70.0 && value < 71.0 && tags.zone == "z0"', 'tags.zone == "z0" && value > 80.0', 'value > 80.0 || tags.zone == "z0"',
  'tags.zone != "z0" || value > 1.0', 'value > 60.0 ? tags.site == "s1" : false', 'value > 1.0 ? tags.zone == "z0" : tags.zone == "z1"',
  'abs(value - 50.0) > 30.0 || device in ["d1", "d2"]', 'abs(value) > 1.0', 'round(value) == 82.0', 'floor(value) < 80.0', 'ceil(value) >= 81.0', 'sqrt(value) > 9.0',
  'value in ["open", "ajar"]', 'device in ["d1"]', 'metric == "temp" && ts > 5.0', 'ts > 0.0 && ts < 2.0', 'tags.zone == tags.site',
  'a.value < value', 'value > a.value', 'a.ts + 1000.0 > ts', 'rate > 5.0', 'avg > 70.0 && avg < 90.0', 'device == metric',
];
const OUTSIDE = ['value > 9007199254740993', 'value == null', 'has(tags.zone)', 'value.startsWith("a")', 'tags["zone"] == "a"', '1 + 2 > value', 'int(value) > 1', 'value in [1.0, 2.0]', 'value < "p"', 'abs(-3) > 2'];

const VALUES: unknown[] = [81.5, 80, 79.99, 0, -0, -5.5, NaN, Infinity, -Infinity, 1e300, 2 ** 31, true, false, 'open', 'closed', '90', '', null, undefined, 5n, {}, [1]];
const TAGS: unknown[] = [
  { zone: 'z0', site: 's1' }, { zone: 'z1', site: 'z1' }, {}, { zone: 5 }, { zone: true }, { zone: null },
  Object.assign(Object.create(null) as object, { zone: 'z0' }), Object.create({ zone: 'z0' }) as object, new Map([['zone', 'z0']]), undefined, 'z0',
];
const OTHER: unknown[] = ['d1', 'temp', 1, NaN, undefined, true];

function contexts(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let i = 0;
  for (const value of VALUES) {
    for (const tags of TAGS) {
      const o = OTHER[i++ % OTHER.length];
      const q = OTHER[(i * 7) % OTHER.length];
      out.push({ value, tags, device: o, metric: q, ts: i % 5 === 0 ? o : 1, a: i % 4 === 0 ? { value: 80, ts: 0 } : i % 4 === 1 ? { value } : i % 4 === 2 ? new Map() : undefined, rate: value, avg: value });
    }
  }
  out.push({}, { value: 90 }, Object.create({ value: 90, tags: { zone: 'z0' } }) as Record<string, unknown>);
  return out;
}

function outcome(run: (c: object) => unknown, ctx: object): unknown {
  try {
    return { value: run(ctx) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

describe('fast conditions (expr-fast)', () => {
  const all = contexts();

  it.each(IN_SUBSET)('%s: compiled, and agrees with cel-js on every context', (source) => {
    const fast = compileCondition(source, VARS);
    const cel = compileCondition(source, VARS, { fast: false });
    if (!fast.ok || !cel.ok) throw new Error(`does not compile: ${source}`);
    const direct = fast.expression.fast;
    expect(direct, 'in the subset').toBeTypeOf('function');
    expect(cel.expression.fast).toBeUndefined();
    let answered = 0;
    for (const ctx of all) {
      expect(outcome(fast.expression.run, ctx), JSON.stringify(ctx, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))).toEqual(outcome(cel.expression.run, ctx));
      if (direct!(ctx as Record<string, unknown>) !== ASK_CEL) answered++;
    }
    expect(answered, 'the shortcut answers for ordinary readings').toBeGreaterThan(0);
  });

  it.each(IN_SUBSET)('%s: test() and testReading() give what cel-js gives, errors included', (source) => {
    const fast = compileCondition(source, VARS);
    const cel = compileCondition(source, VARS, { fast: false });
    if (!fast.ok || !cel.ok) throw new Error(`does not compile: ${source}`);
    for (const ctx of all) {
      const expected: unknown[] = [];
      const want = test(cel.expression, ctx, { error: (e) => expected.push(String(e)) });
      for (const check of [test, testReading]) {
        const errors: unknown[] = [];
        expect(check(fast.expression, ctx, { error: (e) => errors.push(String(e)) })).toBe(want);
        expect(errors).toEqual(expected);
      }
    }
  });

  it('value compared with a number literal is tested inline (a bound); other shapes are not', () => {
    const bound = (source: string) => {
      const c = compileCondition(source, VARS);
      if (!c.ok) throw new Error(source);
      return c.expression.bound;
    };
    expect(bound('value > 80.0')).toEqual({ variable: 'value', op: 0, k: 80 });
    expect(bound('value >= 80')).toEqual({ variable: 'value', op: 1, k: 80 });
    expect(bound('value < 12.0')).toEqual({ variable: 'value', op: 2, k: 12 });
    expect(bound('value <= -5.5')).toBeUndefined(); // unary minus: a closure, not a literal
    expect(bound('value <= 5.5')).toEqual({ variable: 'value', op: 3, k: 5.5 });
    expect(bound('rate > 5.0'), 'any number variable').toEqual({ variable: 'rate', op: 0, k: 5 });
    for (const other of ['80 < value', 'value + 1 > 81', 'abs(value) > 5.0', 'value == 80.0', 'value > 9007199254740993', 'tags.x > 1.0']) expect(bound(other), other).toBeUndefined();
    const cel = compileCondition('value > 80.0', VARS, { fast: false });
    expect(cel.ok && cel.expression.bound, 'no shortcut asked for: no bound either').toBeUndefined();
  });

  it.each(OUTSIDE)('%s: left to cel-js', (source) => {
    const c = compileCondition(source, VARS);
    if (!c.ok) throw new Error(`does not compile: ${source}`);
    expect(c.expression.fast).toBeUndefined();
  });
});

