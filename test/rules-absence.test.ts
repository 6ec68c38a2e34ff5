import { describe, expect, it } from 'vitest';
import { harness } from './rules-helpers.js';
import { VirtualClock } from '../gateway/core/clock.js';
import { createRuleEngine } from '../rules/engine.js';
import type { PipelineRecord } from '../gateway/core/contracts.js';
import { rulesFrom, reading, T0 } from './rules-helpers.js';

const deadman = `
rules:
  - id: silent
    kind: absence
    metric: "*"
    after: 1m
    grace: 30s
`;

describe('absence (deadman)', () => {
  it('never raises for a key before its first reading', () => {
    const h = harness(deadman);
    h.advance(3_600_000);
    expect(h.alerts()).toEqual([]);
  });

  it('raises when silence exceeds `after` (not at exactly `after`), clears on the next reading', () => {
    const h = harness(deadman);
    h.send(0, 'd', 'temp', 1);
    h.send(60_000, 'd', 'temp', 1); // exactly 1 min: in time
    h.advance(120_000);
    expect(h.alerts()).toEqual([]);
    h.advance(120_001);
    expect(h.alerts()).toEqual(['+120000 raise d']);
    h.advance(500_000);
    expect(h.alerts()).toHaveLength(1);
    h.send(600_000, 'd', 'humidity', 1);
    expect(h.alerts()).toEqual(['+120000 raise d', '+600000 clear d']);
    expect(h.alertRecords()[0]!.evidence).toEqual([{ lastSeen: T0 + 60_000, lastValue: 1, expectedWithinMs: 60_000 }]);
  });

  it('after a restart from a snapshot, waits the grace period instead of raising for every key at once', () => {
    const clock = new VirtualClock(T0);
    const out: PipelineRecord[] = [];
    const rules = rulesFrom(deadman);
    const first = createRuleEngine({ rules, clock, emit: (r) => out.push(r) });
    first.process(reading('a', 'm', 1, T0));
    first.process(reading('b', 'm', 1, T0));
    clock.advanceTo(T0 + 10_000);
    const saved = first.snapshot();
    first.close();
    clock.advanceTo(T0 + 600_000); // down for ten minutes: both deadlines passed meanwhile
    const second = createRuleEngine({ rules, clock, emit: (r) => out.push(r) });
    second.restore(saved);
    clock.advanceTo(T0 + 620_000);
    second.process(reading('b', 'm', 1, T0 + 620_000)); // b reconnects within the grace period
    clock.advanceTo(T0 + 630_000);
    expect(out).toEqual([]);
    clock.advanceTo(T0 + 630_001);
    expect(out.map((r) => (r.kind === 'alert' ? `${r.key} ${r.state} +${r.ts - T0}` : ''))).toEqual(['a raise +630000']);
  });

  it('a restart without saved state knows no keys, so nothing fires', () => {
    const h = harness(deadman);
    h.send(0, 'd', 'm', 1);
    h.engine.close();
    const h2 = harness(deadman);
    h2.advance(3_600_000);
    expect(h2.alerts()).toEqual([]);
  });

  it('takes the expected cadence from the device profile when asked', () => {
    const h = harness(
      `
rules:
  - { id: silent, kind: absence, metric: "*", after: 10m, missedCadences: 3 }
`,
      { cadenceOf: (device) => (device === 'fast' ? 10_000 : undefined) },
    );
    h.send(0, 'fast', 'm', 1);
    h.send(0, 'slow', 'm', 1);
    h.advance(30_001);
    expect(h.alerts()).toEqual(['+30000 raise fast']);
    h.advance(600_001);
    expect(h.alerts()).toEqual(['+30000 raise fast', '+600000 raise slow']);
  });

  it('absence keys are not evicted for being idle', () => {
    const h = harness(deadman, { limits: { idleTtlMs: 1000 } });
    h.send(0, 'd', 'm', 1);
    h.advance(120_000);
    expect(h.alerts()).toEqual(['+60000 raise d']);
    expect(h.engine.stats().rules[0]!.stateKeys).toBe(1);
  });
});
