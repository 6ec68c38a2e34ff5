import { describe, expect, it } from 'vitest';
import { harness } from './rules-helpers.js';

const zone = `
rules:
  - id: zone-hot
    kind: group
    metric: temp
    per: tag:zone
    when: value > 30
    atLeast: 3
    within: 1m
`;
const z = (zone: string) => ({ tags: { zone } });

describe('group (cross-device)', () => {
  it('counts distinct devices: one device reporting three times is not three devices', () => {
    const h = harness(zone);
    h.send(0, 'a1', 'temp', 31, z('A'));
    h.send(1000, 'a1', 'temp', 32, z('A'));
    h.send(2000, 'a1', 'temp', 33, z('A'));
    h.send(3000, 'a2', 'temp', 33, z('A'));
    expect(h.alerts()).toEqual([]);
    h.send(4000, 'a3', 'temp', 33, z('A'));
    expect(h.alerts()).toEqual(['+4000 raise A']);
    expect(h.alertRecords()[0]!.device).toBeUndefined();
    expect(h.alertRecords()[0]!.tags).toEqual({ zone: 'A' });
  });

  it('a member counts through exactly `within` and ages out one millisecond later (clearing the alert)', () => {
    const h = harness(zone);
    h.send(0, 'a1', 'temp', 31, z('A'));
    h.send(30_000, 'a2', 'temp', 31, z('A'));
    h.send(60_000, 'a3', 'temp', 31, z('A'));
    expect(h.alerts()).toEqual(['+60000 raise A']);
    h.advance(60_001);
    expect(h.alerts()).toEqual(['+60000 raise A', '+60001 clear A']);
  });

  it('keeps zones apart', () => {
    const h = harness(zone);
    h.send(0, 'a1', 'temp', 31, z('A'));
    h.send(0, 'a2', 'temp', 31, z('A'));
    h.send(0, 'b1', 'temp', 31, z('B'));
    expect(h.alerts()).toEqual([]);
    expect(h.engine.stats().rules[0]!.stateKeys).toBe(2);
  });

  it('an out-of-order reading older than what made a device a member does not take it out', () => {
    const h = harness(zone);
    h.send(0, 'a1', 'temp', 31, z('A'));
    h.send(1000, 'a2', 'temp', 31, z('A'));
    h.send(2000, 'a3', 'temp', 31, z('A'));
    h.send(3000, 'a3', 'temp', 20, { ...z('A'), eventAt: 1500 });
    expect(h.alerts()).toEqual(['+2000 raise A']);
    expect(h.engine.stats().rules[0]!.late).toBe(1);
  });
});
