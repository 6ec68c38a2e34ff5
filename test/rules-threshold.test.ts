import { describe, expect, it } from 'vitest';
import { harness, reading, rulesFrom, T0 } from './rules-helpers.js';

const hysteresis = `
rules:
  - id: hot
    kind: threshold
    metric: temp
    when: value > 80
    clear: value < 75
`;

describe('threshold', () => {
  it('does not raise exactly at the threshold, raises just above it', () => {
    const h = harness(hysteresis);
    h.send(0, 'd1', 'temp', 80);
    expect(h.alerts()).toEqual([]);
    h.send(1000, 'd1', 'temp', 80.01);
    expect(h.alerts()).toEqual(['+1000 raise d1']);
  });

  it('stays raised inside the hysteresis band and clears only below it', () => {
    const h = harness(hysteresis);
    h.send(0, 'd1', 'temp', 81);
    h.send(1000, 'd1', 'temp', 78); // inside the band
    h.send(2000, 'd1', 'temp', 75); // at the clear threshold: `< 75` does not hold
    expect(h.alerts()).toEqual(['+0 raise d1']);
    h.send(3000, 'd1', 'temp', 74.9);
    expect(h.alerts()).toEqual(['+0 raise d1', '+3000 clear d1']);
    h.send(4000, 'd1', 'temp', 79); // inside the band while clear: nothing
    expect(h.alerts()).toHaveLength(2);
  });

  it('without `clear`, clears as soon as `when` stops holding', () => {
    const h = harness(`
rules:
  - { id: hot, kind: threshold, metric: temp, when: value > 80 }
`);
    h.send(0, 'd1', 'temp', 81);
    h.send(1000, 'd1', 'temp', 80);
    expect(h.alerts()).toEqual(['+0 raise d1', '+1000 clear d1']);
  });

  // `since` is kept as epoch ms and written out only when a message shows it: as ISO time, both ways
  it('shows {since} as the ISO time the condition began, in raise and clear messages', () => {
    const h = harness(`
rules:
  - id: hot
    kind: threshold
    metric: temp
    when: value > 80
    for: 2s
    message: "{device} hot since {since} at {ts}"
    clearMessage: "{device} cool since {since}"
`);
    h.send(1000, 'd1', 'temp', 81);
    h.send(2500, 'd1', 'temp', 82);
    h.advance(3000);
    h.send(5000, 'd1', 'temp', 70);
    const iso = (ms: number) => new Date(T0 + ms).toISOString();
    expect(h.records.map((r) => (r.kind === 'alert' ? r.message : ''))).toEqual([`d1 hot since ${iso(1000)} at ${iso(2500)}`, `d1 cool since ${iso(5000)}`]);
  });

  describe('for (debounce)', () => {
    const rules = `
rules:
  - { id: hot, kind: threshold, metric: temp, when: value > 80, for: 10s }
`;
    it('raises from the timer exactly `for` after the first reading over', () => {
      const h = harness(rules);
      h.send(0, 'd1', 'temp', 81);
      h.advance(9999);
      expect(h.alerts()).toEqual([]);
      h.advance(10_000);
      expect(h.alerts()).toEqual(['+10000 raise d1']);
    });

    it('starts over when interrupted', () => {
      const h = harness(rules);
      h.send(0, 'd1', 'temp', 81);
      h.send(5000, 'd1', 'temp', 79); // interrupted
      h.send(6000, 'd1', 'temp', 82);
      h.advance(15_999);
      expect(h.alerts()).toEqual([]);
      h.advance(16_000);
      expect(h.alerts()).toEqual(['+16000 raise d1']);
    });

    it('a reading past the deadline raises at the deadline even when no timer ran (processing lag)', () => {
      const h = harness(rules);
      // the clock stays at T0 while event time moves on 12 s
      h.engine.process(reading('d1', 'temp', 81, T0));
      h.engine.process(reading('d1', 'temp', 83, T0 + 12_000));
      expect(h.alerts()).toEqual(['+10000 raise d1']);
    });

    it('clearFor holds the clear the same way', () => {
      const h = harness(`
rules:
  - { id: hot, kind: threshold, metric: temp, when: value > 80, clear: value < 75, clearFor: 5s }
`);
      h.send(0, 'd1', 'temp', 81);
      h.send(1000, 'd1', 'temp', 70);
      h.send(3000, 'd1', 'temp', 77); // clear interrupted
      h.send(4000, 'd1', 'temp', 70);
      h.advance(8999);
      expect(h.alerts()).toEqual(['+0 raise d1']);
      h.advance(9000);
      expect(h.alerts()).toEqual(['+0 raise d1', '+9000 clear d1']);
    });
  });

  it('ignores out-of-order readings: a stale low reading does not clear a newer high one', () => {
    const h = harness(hysteresis);
    h.send(10_000, 'd1', 'temp', 85);
    h.send(11_000, 'd1', 'temp', 60, { eventAt: 5000 });
    expect(h.alerts()).toEqual(['+10000 raise d1']);
    expect(h.engine.stats().rules[0]!.late).toBe(1);
  });

  it('keeps one state per device', () => {
    const h = harness(hysteresis);
    h.send(0, 'd1', 'temp', 81);
    h.send(0, 'd2', 'temp', 70);
    h.send(1000, 'd2', 'temp', 90);
    expect(h.alerts()).toEqual(['+0 raise d1', '+1000 raise d2']);
    expect(h.engine.stats().rules[0]!.stateKeys).toBe(2);
  });

  it('skips a reading whose condition cannot be evaluated, counting an error, without interrupting `for`', () => {
    const h = harness(`
rules:
  - { id: hot, kind: threshold, metric: temp, when: value > 80, for: 10s }
`);
    h.send(0, 'd1', 'temp', 81);
    h.send(5000, 'd1', 'temp', 'sensor fault');
    h.advance(10_000);
    expect(h.alerts()).toEqual(['+10000 raise d1']);
    const s = h.engine.stats().rules[0]!;
    expect(s.errors).toBe(1);
    expect(h.errors[0]!.rule).toBe('hot');
    expect(String(h.errors[0]!.error)).toMatch(/overload/);
  });

  it('sees tags, device, metric and ts, and `in` lists', () => {
    const h = harness(`
rules:
  - id: t
    kind: threshold
    metric: [temp, temperature]
    when: 'tags.zone in ["a", "b"] && device.startsWith("gh") && abs(value - 20) > 5 && ts > 0.0'
`);
    h.send(0, 'gh1', 'temp', 26, { tags: { zone: 'a' } });
    h.send(0, 'gh2', 'temperature', 14, { tags: { zone: 'b' } });
    h.send(0, 'gh3', 'temp', 26, { tags: { zone: 'c' } });
    h.send(0, 'xx', 'temp', 26, { tags: { zone: 'a' } });
    expect(h.alerts()).toEqual(['+0 raise gh1', '+0 raise gh2']);
  });

  it('carries evidence: the reading that started the phase and the one that decided it', () => {
    const h = harness(`
rules:
  - { id: hot, kind: threshold, metric: temp, when: value > 80, for: 2s }
`);
    h.send(0, 'd1', 'temp', 81);
    h.send(1000, 'd1', 'temp', 82);
    h.send(2000, 'd1', 'temp', 83);
    const [raise] = h.alertRecords();
    expect(raise!.evidence).toEqual([
      { ts: h.clock.now() - 2000, device: 'd1', metric: 'temp', value: 81 },
      { ts: h.clock.now() - 1000, device: 'd1', metric: 'temp', value: 82 },
    ]);
  });
});

// An idle key keeps its last time in its device's slot (the quiet path): every place that reads the
// state's time must see the slot's, and a late reading must still be late.
describe('threshold: an idle key whose time lives in the device slot', () => {
  const plain = `
rules:
  - { id: hot, kind: threshold, metric: temp, when: value > 80 }
`;
  /** Two quiet readings: the second moves only the slot's time (20 s), the state still says 10 s. */
  const quietUntil20s = (h: ReturnType<typeof harness>) => {
    h.send(10_000, 'd1', 'temp', 50);
    h.send(20_000, 'd1', 'temp', 50);
  };
  /** A high reading stamped 15 s arrives after the quiet one of 20 s: it must be late, not a raise. */
  const staleHighIsLate = (h: ReturnType<typeof harness>) => {
    h.send(21_000, 'd1', 'temp', 95, { eventAt: 15_000 });
    expect(h.alerts()).toEqual([]);
    expect(h.engine.stats().rules.find((r) => r.rule === 'hot')!.late).toBe(1);
  };
  const timeOfState = (h: ReturnType<typeof harness>): number => {
    const state = h.engine.snapshot().rules['hot']!.keys[0]!.state as { hi: number; lo: number };
    return state.hi * 2 ** 30 + state.lo;
  };

  it('a stale high reading after newer quiet ones is late, not a raise; a stale quiet one does not move the time back', () => {
    const h = harness(plain);
    quietUntil20s(h);
    h.send(20_500, 'd1', 'temp', 50, { eventAt: 12_000 });
    h.send(21_000, 'd1', 'temp', 95, { eventAt: 15_000 });
    expect(h.alerts()).toEqual([]);
    expect(h.engine.stats().rules[0]!.late).toBe(2);
    h.send(22_000, 'd1', 'temp', 95);
    expect(h.alerts()).toEqual(['+22000 raise d1']);
  });

  it('a snapshot holds the latest time, and a restored engine judges late readings by it', () => {
    const h = harness(plain);
    quietUntil20s(h);
    const snap = h.engine.snapshot();
    expect(timeOfState(h)).toBe(T0 + 20_000);
    const h2 = harness(plain);
    h2.clock.advanceTo(T0 + 21_000);
    h2.engine.restore(snap);
    staleHighIsLate(h2);
  });

  it('a hot reload (which rebuilds the slots) keeps the latest time of an unchanged rule', () => {
    const h = harness(plain);
    quietUntil20s(h);
    h.engine.replace(rulesFrom(`${plain}  - { id: cold, kind: threshold, metric: temp, when: value < 0 }\n`));
    staleHighIsLate(h);
  });

  it('the device cache starting over (50,000 devices) keeps the latest time too', () => {
    const h = harness(plain, { limits: { maxKeysPerRule: 60_000 } });
    quietUntil20s(h);
    for (let d = 0; d < 50_000; d++) h.engine.process(reading(`x${d}`, 'temp', 20, T0 + 20_500));
    staleHighIsLate(h);
  });

  it('a reading that cannot be judged counts one error and leaves the time where it was', () => {
    const h = harness(plain);
    quietUntil20s(h);
    h.send(30_000, 'd1', 'temp', 'sensor fault');
    h.send(31_000, 'd1', 'temp', 'sensor fault');
    expect(h.engine.stats().rules[0]!.errors).toBe(2);
    expect(timeOfState(h)).toBe(T0 + 20_000);
    h.send(32_000, 'd1', 'temp', 95, { eventAt: 25_000 });
    expect(h.alerts(), 'judged: 25 s is after the last judged reading').toEqual(['+25000 raise d1']);
  });

  it('with a debounce too: `for` interrupted, a wake-up queued while pending coming while quiet, late readings', () => {
    const h = harness(`
rules:
  - { id: hot, kind: threshold, metric: temp, when: value > 80, for: 10s, clearFor: 5s }
`);
    h.send(0, 'd1', 'temp', 50);
    h.send(1000, 'd1', 'temp', 90); // pending: a wake-up queued for 11 s
    h.send(2000, 'd1', 'temp', 50); // `for` interrupted: idle, quiet again
    for (let t = 3000; t <= 12_000; t += 1000) h.send(t, 'd1', 'temp', 50); // the wake-up comes at 11 s among these
    expect(h.alerts()).toEqual([]);
    h.send(12_500, 'd1', 'temp', 95, { eventAt: 11_500 }); // older than the quiet reading of 12 s
    expect(h.engine.stats().rules[0]!.late).toBe(1);
    h.send(13_000, 'd1', 'temp', 90);
    h.advance(24_000);
    expect(h.alerts()).toEqual(['+23000 raise d1']);
    h.send(25_000, 'd1', 'temp', 50); // clearing: the clear comes from the timer after 5 s
    h.advance(31_000);
    h.send(32_000, 'd1', 'temp', 50);
    h.send(33_000, 'd1', 'temp', 50);
    h.send(34_000, 'd1', 'temp', 95, { eventAt: 32_500 });
    expect(h.alerts()).toEqual(['+23000 raise d1', '+30000 clear d1']);
    expect(h.engine.stats().rules[0]!.late).toBe(2);
    expect(timeOfState(h)).toBe(T0 + 33_000);
  });

  it('leaves the slot to raise and clear, and comes back to it, over many readings', () => {
    const h = harness(plain);
    const values = [50, 85, 90, 50, 50, 81, 40, ...Array.from({ length: 130 }, (_, i) => (i % 40 === 39 ? 99 : 30))];
    values.forEach((v, i) => h.send(i * 1000, 'd1', 'temp', v));
    const raises = values.flatMap((v, i) => (v > 80 && !(values[i - 1]! > 80) ? [`+${i * 1000} raise d1`] : []));
    expect(h.alerts().filter((a) => a.includes('raise'))).toEqual(raises);
    expect(h.alerts()).toHaveLength(raises.length * 2);
    expect(timeOfState(h)).toBe(T0 + (values.length - 1) * 1000);
  });
});
