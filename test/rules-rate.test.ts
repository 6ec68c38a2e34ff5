import { describe, expect, it } from 'vitest';
import { harness } from './rules-helpers.js';

describe('rate of change', () => {
  it('per second between consecutive readings', () => {
    const h = harness(`
rules:
  - id: fast-rise
    kind: rate
    metric: temp
    when: rate > 0.5
    message: "{device} rising {rate:2}/s"
`);
    h.send(0, 'd', 'temp', 20);
    h.send(10_000, 'd', 'temp', 25); // 0.5/s: not more than 0.5
    expect(h.alerts()).toEqual([]);
    h.send(12_000, 'd', 'temp', 27.2); // 1.1/s
    expect(h.alerts()).toEqual(['+12000 raise d']);
    expect(h.alertRecords()[0]!.message).toBe('d rising 1.10/s');
    expect(h.alertRecords()[0]!.evidence).toEqual([{ from: { ts: h.clock.now() - 2000, value: 25 }, to: { ts: h.clock.now(), value: 27.2 }, rate: expect.closeTo(1.1, 9), change: expect.closeTo(2.2, 9) }]);
    h.send(14_000, 'd', 'temp', 27.2);
    expect(h.alerts()).toEqual(['+12000 raise d', '+14000 clear d']);
  });

  it('per minute', () => {
    const h = harness(`
rules:
  - { id: r, kind: rate, metric: level, unit: minute, when: rate < -10.0 }
`);
    h.send(0, 'tank', 'level', 100);
    h.send(30_000, 'tank', 'level', 94); // -12/min
    expect(h.alerts()).toEqual(['+30000 raise tank']);
  });

  it('change of more than X within T, against the oldest reading in the span', () => {
    const h = harness(`
rules:
  - { id: jump, kind: rate, metric: temp, over: 5m, when: change > 3.0, clear: change < 1.0 }
`);
    h.send(0, 'd', 'temp', 20);
    h.send(120_000, 'd', 'temp', 21.5);
    h.send(300_000, 'd', 'temp', 23); // exactly 5 min after the first: still in the span, change 3 (not > 3)
    expect(h.alerts()).toEqual([]);
    h.send(300_001, 'd', 'temp', 23.2); // the reading at 0 left the span: change vs 21.5 is 1.7
    expect(h.alerts()).toEqual([]);
    h.send(360_000, 'd', 'temp', 25); // vs 21.5 at 2m: 3.5
    expect(h.alerts()).toEqual(['+360000 raise d']);
  });

  it('ignores a second reading at the same instant and counts late ones', () => {
    const h = harness(`
rules:
  - { id: r, kind: rate, metric: m, when: rate > 1.0 }
`);
    h.send(1000, 'd', 'm', 0);
    h.send(1000, 'd', 'm', 100);
    h.send(2000, 'd', 'm', 100, { eventAt: 500 });
    expect(h.alerts()).toEqual([]);
    const s = h.engine.stats().rules[0]!;
    expect([s.ignored, s.late]).toEqual([1, 1]);
  });

  it('supports `for` like threshold', () => {
    const h = harness(`
rules:
  - { id: r, kind: rate, metric: m, when: rate > 1.0, for: 3s }
`);
    h.send(0, 'd', 'm', 0);
    h.send(1000, 'd', 'm', 2);
    h.send(2000, 'd', 'm', 4);
    h.advance(3999);
    expect(h.alerts()).toEqual([]);
    h.advance(4000);
    expect(h.alerts()).toEqual(['+4000 raise d']);
  });

  it('keeps a pending key across a snapshot: the raise after the restart carries the readings from before it, booleans as booleans', () => {
    const rule = `
rules:
  - { id: door, kind: rate, metric: open, when: rate > 0.5, for: 2s, clearFor: 1s, message: "{device} {rate:1}/s since {previous}" }
`;
    const h = harness(rule);
    h.send(0, 'd', 'open', false);
    h.send(1000, 'd', 'open', true, { tags: { room: 'cold' } }); // 1/s: pending until 3 s
    const saved = h.engine.snapshot();
    const h2 = harness(rule);
    h2.clock.advanceTo(h.clock.now());
    h2.engine.restore(saved);
    h2.advance(3000);
    const [raise] = h2.alertRecords();
    expect(raise).toMatchObject({ state: 'raise', ts: h2.clock.now(), value: true, message: 'd 1.0/s since 0', tags: { room: 'cold' } });
    expect(raise!.evidence).toEqual([{ from: { ts: h.clock.now() - 1000, value: 0 }, to: { ts: h.clock.now(), value: true }, rate: 1, change: 1 }]);
    h2.send(4000, 'd', 'open', true); // rate 0: clearing, then cleared by the timer after 1 s
    h2.advance(5000);
    expect(h2.alerts()).toEqual(['+3000 raise d', '+5000 clear d']);
  });
});
