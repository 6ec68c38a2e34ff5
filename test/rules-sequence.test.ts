import { describe, expect, it } from 'vitest';
import { harness, T0 } from './rules-helpers.js';

const openThenWarm = (extra = '') => `
rules:
  - id: warm-after-open
    kind: sequence
    steps:
      - { name: open, metric: door, when: value == "open" }
      - { name: warm, metric: temp, when: value > 8.0 && ts > open.ts }
    within: 10m
${extra}
`;

describe('sequence', () => {
  it('matches ordered steps and lets a step refer to an earlier one (momentary raise + clear)', () => {
    const h = harness(openThenWarm());
    h.send(0, 'room', 'temp', 9); // before the door opened: not a step
    h.send(1000, 'room', 'door', 'open');
    h.send(60_000, 'room', 'temp', 9);
    expect(h.alerts()).toEqual(['+60000 raise room', '+60000 clear room']);
    expect(h.alertRecords()[0]!.evidence).toEqual([
      { step: 'open', ts: h.clock.now() - 59_000, device: 'room', metric: 'door', value: 'open', tags: {} },
      { step: 'warm', ts: h.clock.now(), device: 'room', metric: 'temp', value: 9, tags: {} },
    ]);
  });

  it('`within` is inclusive: a step at exactly `within` matches, one millisecond later it does not', () => {
    const exact = harness(openThenWarm());
    exact.send(0, 'r', 'door', 'open');
    exact.send(600_000, 'r', 'temp', 9);
    expect(exact.alerts()).toEqual(['+600000 raise r', '+600000 clear r']);

    const late = harness(openThenWarm());
    late.send(0, 'r', 'door', 'open');
    late.send(600_001, 'r', 'temp', 9);
    expect(late.alerts()).toEqual([]);
  });

  it('relaxed contiguity skips readings in between; strict drops the partial match', () => {
    const relaxed = harness(openThenWarm());
    relaxed.send(0, 'r', 'door', 'open');
    relaxed.send(1000, 'r', 'temp', 5);
    relaxed.send(2000, 'r', 'temp', 9);
    expect(relaxed.alerts()).toHaveLength(2);

    const strict = harness(openThenWarm('    contiguity: strict'));
    strict.send(0, 'r', 'door', 'open');
    strict.send(1000, 'r', 'temp', 5);
    strict.send(2000, 'r', 'temp', 9);
    expect(strict.alerts()).toEqual([]);
  });

  it('a `not` step between steps cancels the partial match', () => {
    const h = harness(`
rules:
  - id: s
    kind: sequence
    metric: door
    steps:
      - { name: open, when: value == "open" }
      - { name: closed, not: true, when: value == "closed" }
      - { name: alarm, metric: siren, when: value == true }
    within: 1m
`);
    h.send(0, 'r', 'door', 'open');
    h.send(1000, 'r', 'door', 'closed');
    h.send(2000, 'r', 'siren', true);
    expect(h.alerts()).toEqual([]);
    h.send(3000, 'r', 'door', 'open');
    h.send(4000, 'r', 'siren', true);
    expect(h.alerts()).toEqual(['+4000 raise r', '+4000 clear r']);
  });

  it('a trailing `not` step raises when `within` passes without it, and `clear` ends the alert', () => {
    const h = harness(`
rules:
  - id: door-left-open
    kind: sequence
    metric: door
    steps:
      - { name: opened, when: value == "open" }
      - { name: closed, not: true, when: value == "closed" }
    within: 5m
    clear: value == "closed"
`);
    h.send(0, 'r', 'door', 'open');
    h.advance(300_000);
    expect(h.alerts()).toEqual([]);
    h.advance(300_001);
    expect(h.alerts()).toEqual(['+300000 raise r']);
    h.send(400_000, 'r', 'door', 'closed');
    expect(h.alerts()).toEqual(['+300000 raise r', '+400000 clear r']);
  });

  it('alertOn: timeout raises when a started sequence does not complete in time', () => {
    const h = harness(`
rules:
  - id: heater-ineffective
    kind: sequence
    steps:
      - { name: on, metric: heater, when: value == true }
      - { name: warm, metric: temp, when: value > 18.0 }
    within: 10m
    alertOn: timeout
    clearAfter: 1m
    message: "heater on since {on.ts}, still cold after {within}"
`);
    h.send(0, 'room', 'heater', true);
    h.send(60_000, 'room', 'temp', 15);
    h.advance(600_001);
    expect(h.alerts()).toEqual(['+600000 raise room']);
    const raise = h.alertRecords()[0]!;
    expect(raise.message).toBe('heater on since 2024-01-01T00:00:00.000Z, still cold after 600s');
    expect(raise.evidence.at(-1)).toEqual({ timedOut: true, within: 600_000 });
    h.advance(660_000);
    expect(h.alerts()).toEqual(['+600000 raise room', '+660000 clear room']);

    // completed in time: no alert
    h.send(700_000, 'room', 'heater', true);
    h.send(710_000, 'room', 'temp', 19);
    h.advance(2_000_000);
    expect(h.alerts()).toHaveLength(2);
  });

  it('dedupes repeated matches while firing', () => {
    const h = harness(openThenWarm('    clearAfter: 1h'));
    h.send(0, 'r', 'door', 'open');
    h.send(1000, 'r', 'temp', 9);
    h.send(2000, 'r', 'door', 'open');
    h.send(3000, 'r', 'temp', 10);
    expect(h.alerts()).toEqual(['+1000 raise r']);
    expect(h.engine.stats().rules[0]!.deduped).toBe(1);
  });

  it('caps partial matches per key', () => {
    const h = harness(openThenWarm(), { limits: { maxPartialMatches: 2 } });
    for (let i = 0; i < 5; i++) h.send(i * 1000, 'r', 'door', 'open');
    const snap = h.engine.snapshot();
    const state = snap.rules['warm-after-open']!.keys[0]!.state as { partials: unknown[] };
    expect(state.partials).toHaveLength(2);
  });
});

describe('sequence: steps comparing values', () => {
  it('b.value > a.value', () => {
    const h = harness(`
rules:
  - id: rising
    kind: sequence
    metric: pressure
    steps:
      - { name: a, when: value > 2.0 }
      - { name: b, when: value > a.value + 0.5 }
    within: 1m
`);
    h.send(0, 'p', 'pressure', 2.5);
    h.send(1000, 'p', 'pressure', 2.9);
    expect(h.alerts()).toEqual([]);
    h.send(2000, 'p', 'pressure', 3.1);
    expect(h.alerts()).toEqual(['+2000 raise p', '+2000 clear p']);
    expect(h.engine.stats().rules[0]!.errors).toBe(0);
  });
});

// With nothing in progress a device's sequence key keeps its last time in the device's slot (the
// quiet path): a late first step must still be late, and snapshots must hold the latest time.
describe('sequence: nothing in progress, the time in the device slot', () => {
  const rising = `
rules:
  - id: rising
    kind: sequence
    metric: temp
    within: 10s
    steps:
      - { name: a, when: value > 80 }
      - { name: b, when: value > a.value }
`;

  it('a stale first step after newer quiet readings is late and starts nothing', () => {
    const h = harness(rising);
    h.send(10_000, 'd1', 'temp', 50);
    h.send(20_000, 'd1', 'temp', 50);
    h.send(20_500, 'd1', 'temp', 90, { eventAt: 15_000 });
    h.send(21_000, 'd1', 'temp', 91); // would complete a sequence started by the late reading
    expect(h.alerts()).toEqual([]);
    expect(h.engine.stats().rules[0]!.late).toBe(1);
    h.send(22_000, 'd1', 'temp', 92);
    expect(h.alerts()).toEqual(['+22000 raise d1', '+22000 clear d1']);
  });

  it('a snapshot taken while quiet holds the latest time; a wake-up left from an expired match finds nothing', () => {
    const h = harness(rising);
    h.send(0, 'd1', 'temp', 90); // starts a match, wakes at 10,001 to drop it
    h.advance(10_001);
    h.send(12_000, 'd1', 'temp', 50);
    h.send(13_000, 'd1', 'temp', 50);
    const state = h.engine.snapshot().rules['rising']!.keys[0]!.state as { hi: number; lo: number; partials: unknown };
    expect(state.hi * 2 ** 30 + state.lo).toBe(T0 + 13_000);
    expect(state.partials).toBeNull();
    h.send(14_000, 'd1', 'temp', 85);
    h.send(15_000, 'd1', 'temp', 86);
    expect(h.alerts()).toEqual(['+15000 raise d1', '+15000 clear d1']);
  });
});
