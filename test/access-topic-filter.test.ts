import { describe, expect, it } from 'vitest';
import { covers, intersects, isValidTopicFilter, isValidTopicName, matchesTopic, toFilter } from '../gateway/broker/access/topic-filter.js';

describe('topic and filter syntax', () => {
  it.each([
    ['a/b', true],
    ['/a//b/', true],
    ['$SYS/x', true],
    ['', false],
    ['a/+', false],
    ['a/#', false],
    ['a\u0000b', false],
  ])('topic name %j valid: %s', (topic, valid) => expect(isValidTopicName(topic)).toBe(valid));

  it.each([
    ['#', true],
    ['a/+/b/#', true],
    ['+', true],
    ['', false],
    ['a/#/b', false],
    ['a/b#', false],
    ['a+/b', false],
    ['a/b/##', false],
  ])('filter %j valid: %s', (filter, valid) => expect(isValidTopicFilter(filter)).toBe(valid));
});

describe('filter relations', () => {
  it.each([
    ['sensors/#', 'sensors', true],
    ['sensors/#', 'sensors/a/b', true],
    ['sensors/+', 'sensors/a/b', false],
    ['sensors/+', 'sensors/', true],
    ['+/+', '/a', true],
    ['#', '$SYS/broker', false], // [MQTT-4.7.2-1]
    ['+/broker', '$SYS/broker', false],
    ['$SYS/#', '$SYS/broker', true],
  ])('%j matches topic %j: %s', (filter, topic, expected) => {
    expect(matchesTopic(toFilter(filter), topic)).toBe(expected);
  });

  // matchesTopic walks the name instead of splitting it: it must agree with matching the split levels
  it('agrees with matching the split topic, over random filters and names', () => {
    const bySplit = (filter: string, topic: string): boolean => {
      const f = filter.split('/');
      const t = topic.split('/');
      if ((f[0] === '+' || f[0] === '#') && t[0]!.startsWith('$')) return false;
      for (let i = 0; i < f.length; i++) {
        if (f[i] === '#') return true;
        if (i >= t.length) return false;
        if (f[i] !== '+' && f[i] !== t[i]) return false;
      }
      return f.length === t.length;
    };
    let seed = 5;
    const pick = <T>(xs: readonly T[]): T => xs[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % xs.length]!;
    const levels = ['a', 'b', 'ab', '', '$SYS', 'a b'];
    let matched = 0;
    for (let i = 0; i < 20_000; i++) {
      const topic = Array.from({ length: 1 + (i % 4) }, () => pick(levels)).join('/');
      const f = Array.from({ length: 1 + ((i >> 2) % 4) }, () => pick([...levels, '+', '+']));
      if (i % 3 === 0) f.push('#');
      const filter = f.join('/');
      const expected = bySplit(filter, topic);
      if (expected) matched++;
      expect(matchesTopic(toFilter(filter), topic), `${filter} ~ ${topic}`).toBe(expected);
    }
    expect(matched).toBeGreaterThan(1000);
  });

  it.each([
    ['sensors/#', 'sensors/+/temp', true],
    ['sensors/+/temp', 'sensors/#', false],
    ['sensors/+/temp', 'sensors/a/temp', true],
    ['sensors/a/temp', 'sensors/+/temp', false],
    ['sensors/+', 'sensors/#', false],
    ['sensors/#', 'sensors', true],
    ['sensors', 'sensors/#', false],
    ['#', '#', true],
    ['#', '+/x', true],
    ['#', '$SYS/#', false],
    ['+/#', '$SYS/x', false],
    ['$SYS/#', '$SYS/+/load', true],
  ])('grant %j covers subscription %j: %s', (grant, sub, expected) => {
    expect(covers(toFilter(grant), toFilter(sub))).toBe(expected);
  });

  it.each([
    ['a/#', 'a', true],
    ['a', 'a/#', true],
    ['a/+/c', 'a/b/+', true],
    ['a/b', 'a/c', false],
    ['a/b', 'a/b/c', false],
    ['+/x', '$SYS/x', false],
    ['#', '$SYS/#', false],
    ['+', '#', true],
  ])('%j and %j overlap: %s', (a, b, expected) => {
    expect(intersects(toFilter(a), toFilter(b))).toBe(expected);
    expect(intersects(toFilter(b), toFilter(a))).toBe(expected);
  });
});
