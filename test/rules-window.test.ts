import { describe, expect, it } from 'vitest';
import { harness, T0 } from './rules-helpers.js';
import { accAdd, accResult, newAcc, percentile } from '../rules/aggregates.js';

const derivedOf = (h: ReturnType<typeof harness>) => h.derived().map((r) => `+${r.ts - T0} ${r.device} ${r.metric}=${r.value}`);

describe('window: tumbling', () => {
  const rules = `
rules:
  - id: avg
    kind: window
    metric: temp
    lateness: 2s
    window: { type: tumbling, size: 10s }
    aggregates: [avg, count]
    emit: { metric: temp_avg }
    having: avg > 50
`;
  it('puts a reading at exactly the window end into the next window', () => {
    const h = harness(rules);
    h.send(0, 'd1', 'temp', 10);
    h.send(9999, 'd1', 'temp', 20);
    h.send(10_000, 'd1', 'temp', 90);
    h.advance(60_000);
    expect(derivedOf(h)).toEqual(['+10000 d1 temp_avg=15', '+20000 d1 temp_avg=90']);
  });

  it('closes a window only after the allowed lateness, and takes late readings until then', () => {
    const h = harness(rules);
    h.send(1000, 'd1', 'temp', 10);
    h.send(11_000, 'd1', 'temp', 30, { eventAt: 9000 }); // 2 s late, window still open
    h.advance(11_999);
    expect(derivedOf(h)).toEqual([]);
    h.advance(12_000);
    expect(derivedOf(h)).toEqual(['+10000 d1 temp_avg=20']);
    h.send(12_001, 'd1', 'temp', 1000, { eventAt: 9500 }); // too late: its window closed
    h.advance(30_000);
    expect(derivedOf(h)).toEqual(['+10000 d1 temp_avg=20']);
    expect(h.engine.stats().rules[0]!.late).toBe(1);
  });

  it('raises on `having` at the window end and clears on the next window that fails it', () => {
    const h = harness(rules);
    h.send(0, 'd1', 'temp', 60);
    h.send(5000, 'd1', 'temp', 70);
    h.send(10_000, 'd1', 'temp', 60);
    h.send(20_000, 'd1', 'temp', 10);
    h.advance(40_000);
    expect(h.alerts()).toEqual(['+10000 raise d1', '+30000 clear d1']);
    const raise = h.alertRecords()[0]!;
    expect(raise.value).toBe(65);
    expect(raise.evidence).toEqual([{ window: { type: 'tumbling', start: T0, end: T0 + 10_000 }, stats: { avg: 65, count: 2 } }]);
  });

  it('emits nothing for a window without readings', () => {
    const h = harness(rules);
    h.send(0, 'd1', 'temp', 10);
    h.send(35_000, 'd1', 'temp', 10);
    h.advance(60_000);
    expect(derivedOf(h)).toEqual(['+10000 d1 temp_avg=10', '+40000 d1 temp_avg=10']);
  });
});

describe('window: hopping', () => {
  it('counts a reading in every window that covers it', () => {
    const h = harness(`
rules:
  - id: hop
    kind: window
    metric: m
    lateness: 0s
    window: { type: hopping, size: 30s, hop: 10s }
    aggregates: [sum]
    emit: { metric: m_sum_30s }
`);
    h.send(5000, 'd', 'm', 1); // windows starting -20s, -10s, 0s
    h.send(15_000, 'd', 'm', 10); // -10s, 0s, 10s
    h.advance(60_000);
    expect(derivedOf(h)).toEqual(['+10000 d m_sum_30s=1', '+20000 d m_sum_30s=11', '+30000 d m_sum_30s=11', '+40000 d m_sum_30s=10']);
  });

  it('files late readings into the right one of several open windows, raw values included, and reuses the slots of closed ones', () => {
    // the median keeps each window's raw values (the general state); sum alone keeps numbers only (an array as state)
    for (const [aggregates, value, expected] of [
      ['sum, median', 'median', [1, 5, 7, 7]],
      ['sum', 'sum', [1, 106, 112, 7]],
    ] as const) {
      const h = harness(`
rules:
  - id: hop
    kind: window
    metric: m
    lateness: 25s
    window: { type: hopping, size: 20s, hop: 10s }
    aggregates: [${aggregates}]
    emit: { metric: m_${value}, value: ${value} }
`);
      const round = (base: number) => {
        h.send(base + 15_000, 'd', 'm', 100); // windows starting at base + 0s and + 10s
        h.send(base + 25_000, 'd', 'm', 7); // + 10s and + 20s: three windows open
        h.send(base + 26_000, 'd', 'm', 1, { eventAt: base + 3000 }); // late: opens base - 10s in front of them, and + 0s
        h.send(base + 27_000, 'd', 'm', 5, { eventAt: base + 12_000 }); // late: + 0s and + 10s, the middle two
      };
      const lines = (base: number) => expected.map((v, i) => `+${base + 10_000 * (i + 1)} d m_${value}=${v}`);
      round(0);
      h.advance(200_000);
      // each window got its own readings: [1], [100, 1, 5], [100, 7, 5], [7]
      expect(derivedOf(h), aggregates).toEqual(lines(0));
      round(300_000); // the closed windows' slots are reused
      h.advance(500_000);
      expect(derivedOf(h).slice(4), aggregates).toEqual(lines(300_000));
      expect(h.engine.stats().rules[0]!.late).toBe(0);
    }
  });
});

describe('window: sliding', () => {
  const rules = `
rules:
  - id: burst
    kind: window
    metric: door
    per: device
    window: { type: sliding, size: 60s }
    aggregates: [count]
    having: count >= 3
`;
  it('raises the moment the third reading falls within the window and clears when points age out', () => {
    const h = harness(rules);
    h.send(0, 'd', 'door', 1);
    h.send(30_000, 'd', 'door', 1);
    h.send(60_000, 'd', 'door', 1); // the first point (at 0) is out: (0, 60s]
    expect(h.alerts()).toEqual([]);
    h.send(61_000, 'd', 'door', 1);
    expect(h.alerts()).toEqual(['+61000 raise d']);
    h.advance(89_999);
    expect(h.alerts()).toEqual(['+61000 raise d']);
    h.advance(90_000); // the point at 30s leaves
    expect(h.alerts()).toEqual(['+61000 raise d', '+90000 clear d']);
  });
});

describe('window: session', () => {
  it('closes a session after the gap and starts a new one after it', () => {
    const h = harness(`
rules:
  - id: s
    kind: window
    metric: flow
    lateness: 0s
    window: { type: session, gap: 5s }
    aggregates: [sum, first, last, delta]
    emit: { metric: litres, value: sum }
`);
    h.send(0, 'pump', 'flow', 1);
    h.send(4000, 'pump', 'flow', 2);
    h.send(9000, 'pump', 'flow', 3); // exactly the gap: same session
    h.advance(14_000);
    expect(derivedOf(h)).toEqual([]);
    h.advance(14_001);
    expect(derivedOf(h)).toEqual(['+14000 pump litres=6']);
    h.send(30_000, 'pump', 'flow', 7);
    h.advance(40_000);
    expect(derivedOf(h)).toEqual(['+14000 pump litres=6', '+35000 pump litres=7']);
  });
});

describe('window: count', () => {
  it('emits every N readings', () => {
    const h = harness(`
rules:
  - id: c
    kind: window
    metric: m
    window: { type: count, size: 3 }
    aggregates: [max, min, p50]
    emit: { metric: m_max3 }
`);
    for (const [i, v] of [5, 1, 9, 4, 4].entries()) h.send(i * 1000, 'd', 'm', v);
    expect(derivedOf(h)).toEqual(['+2000 d m_max3=9']);
  });
});

describe('window: per tag', () => {
  it('aggregates across the devices of a zone', () => {
    const h = harness(`
rules:
  - id: zone-avg
    kind: window
    metric: temp
    per: tag:zone
    lateness: 0s
    window: { type: tumbling, size: 1m }
    aggregates: [avg]
    emit: { metric: zone_avg }
`);
    h.send(0, 'a1', 'temp', 10, { tags: { zone: 'A' } });
    h.send(1000, 'a2', 'temp', 20, { tags: { zone: 'A' } });
    h.send(2000, 'x', 'temp', 99); // no zone tag: ignored
    h.advance(60_000);
    expect(derivedOf(h)).toEqual(['+60000 A zone_avg=15']);
    expect(h.derived()[0]!.tags).toEqual({ zone: 'A' });
    expect(h.engine.stats().rules[0]!.ignored).toBe(1);
  });
});

describe('aggregates', () => {
  it('computes every aggregate', () => {
    const a = newAcc(true);
    [[2, 3], [4, 1], [4, 2], [4, 4], [5, 5], [5, 6], [7, 7], [9, 8]].forEach(([v, ts]) => accAdd(a, v!, ts!, 100));
    const r = accResult(a, ['avg', 'min', 'max', 'sum', 'count', 'stddev', 'first', 'last', 'delta', 'median', 'p90']);
    expect(r).toMatchObject({ avg: 5, min: 2, max: 9, sum: 40, count: 8, first: 4, last: 9, delta: 5, median: 4.5 });
    expect(r['stddev']).toBeCloseTo(2.138089935, 8); // sample standard deviation
    expect(r['p90']).toBeCloseTo(7.6, 10);
  });

  it('keeps variance stable for large values with small spread', () => {
    const a = newAcc(false);
    for (const v of [1e9 + 0.1, 1e9 + 0.2, 1e9 + 0.3]) accAdd(a, v, 0, 0);
    expect(accResult(a, ['stddev'])['stddev']).toBeCloseTo(0.1, 6);
  });

  it('interpolates percentiles between ranks', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([1], 99)).toBe(1);
    expect(percentile([], 50)).toBeNaN();
  });
});
