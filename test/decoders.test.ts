/** Decoders and topic patterns on captured payloads: pure functions, no I/O. */
import { describe, expect, it } from 'vitest';
import { JsonDecoder, MAX_READINGS_PER_PAYLOAD } from '../devices/decoders/json.js';
import { ValueDecoder } from '../devices/decoders/value.js';
import { CsvDecoder } from '../devices/decoders/csv.js';
import { KeyValueDecoder } from '../devices/decoders/key-value.js';
import { parseTimestamp } from '../devices/decoders/scalars.js';
import { compileTopicPattern, topicPatternProblem } from '../devices/profiles/topic-pattern.js';
import { ProfileRouter } from '../devices/profiles/router.js';
import { BUILTIN_PROFILES } from '../devices/profiles/builtin.js';

const ctx = (device: string, metric?: string) => ({ params: metric ? { device, metric } : { device } });
const bytes = (s: string) => Buffer.from(s, 'utf8');

// Captured from a Sonoff TH10 with an AM2301 running Tasmota 13 (tele/<topic>/SENSOR)
const TASMOTA_AM2301 = '{"Time":"2024-01-14T10:22:33","AM2301":{"Temperature":21.4,"Humidity":45.1,"DewPoint":9.1},"TempUnit":"C"}';
// Captured from a Tasmota energy plug (Gosund SP111)
const TASMOTA_ENERGY =
  '{"Time":"2024-01-14T10:22:33","ENERGY":{"TotalStartTime":"2023-01-01T00:00:00","Total":12.345,"Yesterday":0.5,"Today":0.1,"Power":42,"ApparentPower":50,"ReactivePower":10,"Factor":0.84,"Voltage":231,"Current":0.2}}';

describe('json decoder', () => {
  it('takes every numeric leaf of a Tasmota payload, by dotted path, with its event time', () => {
    const d = new JsonDecoder({ exclude: ['TempUnit'], timestamp: { field: 'Time', format: 'iso8601' } });
    const r = d.decode(bytes(TASMOTA_AM2301), ctx('th10'));
    expect(r).toEqual({
      ok: true,
      readings: [
        { device: 'th10', metric: 'AM2301.Temperature', value: 21.4, ts: Date.parse('2024-01-14T10:22:33') },
        { device: 'th10', metric: 'AM2301.Humidity', value: 45.1, ts: Date.parse('2024-01-14T10:22:33') },
        { device: 'th10', metric: 'AM2301.DewPoint', value: 9.1, ts: Date.parse('2024-01-14T10:22:33') },
      ],
    });
  });
  it('selects and renames fields by path', () => {
    const d = new JsonDecoder({ fields: { power: 'ENERGY.Power', volts: 'ENERGY.Voltage', missing: 'ENERGY.Nope' } });
    const r = d.decode(bytes(TASMOTA_ENERGY), ctx('plug'));
    expect(r.ok && r.readings.map((x) => [x.metric, x.value])).toEqual([
      ['power', 42],
      ['volts', 231],
    ]);
  });
  it('accepts epoch seconds and milliseconds and rejects an unreadable timestamp', () => {
    const d = new JsonDecoder({ timestamp: { field: 'ts', format: 'auto' } });
    const s = d.decode(bytes('{"t":1,"ts":1700000000}'), ctx('a'));
    const ms = d.decode(bytes('{"t":1,"ts":1700000000123}'), ctx('a'));
    expect(s.ok && s.readings[0]!.ts).toBe(1_700_000_000_000);
    expect(ms.ok && ms.readings[0]!.ts).toBe(1_700_000_000_123);
    expect(d.decode(bytes('{"t":1,"ts":"yesterday"}'), ctx('a'))).toMatchObject({ ok: false, code: 'BAD_TIMESTAMP' });
  });
  it('reports bad input with a code instead of throwing', () => {
    const d = new JsonDecoder({});
    expect(d.decode(bytes('{"a":'), ctx('a'))).toMatchObject({ ok: false, code: 'INVALID_JSON' });
    expect(d.decode(bytes('[1,2]'), ctx('a'))).toMatchObject({ ok: false, code: 'NOT_AN_OBJECT' });
    expect(d.decode(bytes('{"name":"x"}'), ctx('a'))).toMatchObject({ ok: false, code: 'NO_METRICS' });
    expect(d.decode(Buffer.from([0xff, 0xfe, 0x00]), ctx('a'))).toMatchObject({ ok: false, code: 'INVALID_JSON' });
    const wide = Object.fromEntries(Array.from({ length: MAX_READINGS_PER_PAYLOAD + 1 }, (_, i) => [`m${i}`, i]));
    expect(d.decode(bytes(JSON.stringify(wide)), ctx('a'))).toMatchObject({ ok: false, code: 'TOO_MANY_METRICS' });
  });
  it('takes a bare JSON number when the topic names the metric', () => {
    expect(new JsonDecoder({}).decode(bytes('21.5'), ctx('a', 'temp'))).toEqual({ ok: true, readings: [{ device: 'a', metric: 'temp', value: 21.5 }] });
  });
});

describe('value decoder', () => {
  const d = new ValueDecoder();
  it.each([
    ['21.5', 21.5],
    [' -3e2 ', -300],
    ['ON', true],
    ['off', false],
    ['open', true],
    ['heating', 'heating'],
  ])('%j -> %j', (payload, value) => {
    expect(d.decode(bytes(payload), ctx('dev', 'm'))).toEqual({ ok: true, readings: [{ device: 'dev', metric: 'm', value }] });
  });
  it('rejects empty payloads and long text', () => {
    expect(d.decode(bytes(''), ctx('dev', 'm'))).toMatchObject({ ok: false, code: 'NOT_A_VALUE' });
    expect(d.decode(bytes('x'.repeat(500)), ctx('dev', 'm'))).toMatchObject({ ok: false, code: 'NOT_A_VALUE' });
  });
  it('uses a fixed metric when the topic has none', () => {
    expect(new ValueDecoder('level').decode(bytes('3'), ctx('tank'))).toMatchObject({ ok: true, readings: [{ metric: 'level', value: 3 }] });
    expect(d.decode(bytes('3'), ctx('tank'))).toMatchObject({ ok: false, code: 'NO_METRIC' });
  });
});

describe('csv and key=value decoders', () => {
  it('names columns, skips `-`, reads a ts column', () => {
    const d = new CsvDecoder(['ts', 'temp', '-', 'hum'], ',', 'ts');
    expect(d.decode(bytes('1700000000,21.5,junk,40\r\n'), ctx('c'))).toEqual({
      ok: true,
      readings: [
        { device: 'c', metric: 'temp', value: 21.5, ts: 1_700_000_000_000 },
        { device: 'c', metric: 'hum', value: 40, ts: 1_700_000_000_000 },
      ],
    });
    expect(d.decode(bytes('1,2'), ctx('c'))).toMatchObject({ ok: false, code: 'COLUMN_COUNT' });
  });
  it('reads key=value pairs with any common separator', () => {
    const d = new KeyValueDecoder();
    expect(d.decode(bytes('temp=21.5, hum=40;door=open'), ctx('k'))).toMatchObject({
      ok: true,
      readings: [
        { metric: 'temp', value: 21.5 },
        { metric: 'hum', value: 40 },
        { metric: 'door', value: true },
      ],
    });
    expect(d.decode(bytes('temp 21.5'), ctx('k'))).toMatchObject({ ok: false, code: 'NOT_KEY_VALUE' });
  });
});

describe('timestamps', () => {
  it('tells seconds from milliseconds and parses ISO 8601', () => {
    expect(parseTimestamp(1_700_000_000, 'auto')).toBe(1_700_000_000_000);
    expect(parseTimestamp(1_700_000_000_000, 'auto')).toBe(1_700_000_000_000);
    expect(parseTimestamp('2024-01-01T00:00:00Z', 'auto')).toBe(Date.UTC(2024, 0, 1));
    expect(parseTimestamp('1700000000', 'epoch-s')).toBe(1_700_000_000_000);
    expect(parseTimestamp(Number.NaN, 'auto')).toBeUndefined();
    expect(parseTimestamp('soon', 'auto')).toBeUndefined();
  });
});

describe('topic patterns', () => {
  it('matches named segments and a trailing #', () => {
    const p = compileTopicPattern('sensors/{device}/{metric}');
    expect(p.filter).toBe('sensors/+/+');
    expect(p.match('sensors/kitchen/temp')).toEqual({ device: 'kitchen', metric: 'temp' });
    expect(p.match('sensors/kitchen')).toBeUndefined();
    expect(p.match('sensors/kitchen/temp/extra')).toBeUndefined();
    expect(p.match('sensors//temp')).toBeUndefined();
    const rest = compileTopicPattern('site/{device}/#');
    expect(rest.filter).toBe('site/+/#');
    expect(rest.match('site/a')).toEqual({ device: 'a' });
    expect(rest.match('site/a/b/c')).toEqual({ device: 'a' });
  });
  // match walks the topic instead of splitting it: it must give what matching the split levels gives
  it('agrees with matching the split topic, over random patterns and topics', () => {
    const bySplit = (pattern: string, topic: string): Record<string, string> | undefined => {
      const segs = pattern.split('/');
      const hasRest = segs.at(-1) === '#';
      const fixed = hasRest ? segs.length - 1 : segs.length;
      const levels = topic.split('/');
      if (hasRest ? levels.length < fixed : levels.length !== fixed) return undefined;
      if (topic.startsWith('$') && (segs[0] === '+' || segs[0]!.startsWith('{'))) return undefined;
      const params: Record<string, string> = {};
      for (let i = 0; i < fixed; i++) {
        const s = segs[i]!;
        if (s === '+' || s.startsWith('{')) {
          if (levels[i] === '') return undefined;
          if (s !== '+') params[s.slice(1, -1)] = levels[i]!;
        } else if (s !== levels[i]) return undefined;
      }
      return params;
    };
    let seed = 9;
    const pick = <T>(xs: readonly T[]): T => xs[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % xs.length]!;
    const words = ['a', 'b', 'ab', '', '$SYS'];
    let matched = 0;
    for (let i = 0; i < 20_000; i++) {
      const names = ['{device}', '{metric}', '{x}'];
      const segs = Array.from({ length: 1 + (i % 3) }, (_, k) => pick(['a', 'ab', '$SYS', '+', names[k]!]));
      if (i % 4 === 0) segs.push('#');
      const pattern = segs.join('/');
      if (topicPatternProblem(pattern)) continue;
      const topic = Array.from({ length: 1 + ((i >> 2) % 4) }, () => pick(words)).join('/');
      const expected = bySplit(pattern, topic);
      if (expected) matched++;
      expect(compileTopicPattern(pattern).match(topic), `${pattern} ~ ${topic}`).toEqual(expected);
    }
    expect(matched).toBeGreaterThan(1000);
  });

  it('never matches $ topics with a leading wildcard [MQTT-4.7.2-1]', () => {
    expect(compileTopicPattern('{device}/telemetry').match('$SYS/telemetry')).toBeUndefined();
    expect(compileTopicPattern('$SYS/{device}').match('$SYS/x')).toEqual({ device: 'x' });
  });
  it.each([
    ['a/{dev', 'level "{dev" must be a whole {name} segment'],
    ['a/#/b', '"#" must be the last level in "a/#/b"'],
    ['a/{x}/{x}', 'segment {x} appears twice'],
    ['a/b+', 'wildcards must fill a whole level, not "b+"'],
    ['', 'topic pattern is empty'],
  ])('rejects %j', (pattern, problem) => {
    expect(topicPatternProblem(pattern)).toBe(problem);
  });
});

describe('profile router', () => {
  const router = new ProfileRouter([
    { name: 'probe', topic: 'lab/{device}/{metric}', decoder: { kind: 'value' }, metrics: { temp: { unit: '°C', min: 0, max: 50 } }, tags: { site: 'lab' } },
    ...BUILTIN_PROFILES,
  ]);
  it('routes by first match and applies units, ranges and tags', () => {
    const r = router.route('lab/p1/temp', bytes('60'));
    expect(r).toEqual({
      kind: 'readings',
      profile: 'probe',
      device: 'p1',
      readings: [{ device: 'p1', metric: 'temp', value: 60, unit: '°C', tags: { site: 'lab' }, outOfRange: true }],
    });
  });
  it('decodes the built-in Tasmota profile and reports unrouted topics', () => {
    const r = router.route('tele/th10/SENSOR', bytes(TASMOTA_AM2301));
    expect(r.kind === 'readings' && r.readings.map((x) => x.metric)).toEqual(['AM2301.Temperature', 'AM2301.Humidity', 'AM2301.DewPoint']);
    expect(router.route('nowhere/x', bytes('1'))).toEqual({ kind: 'unrouted' });
    expect(router.filters()).toEqual(['lab/+/+', 'weir/+/telemetry', 'sensors/+/+', 'tele/+/SENSOR']);
  });
});
