import { describe, expect, it } from 'vitest';
import { harness, reading, rulesFrom, T0 } from './rules-helpers.js';
import { VirtualClock } from '../gateway/core/clock.js';
import { createRuleEngine } from '../rules/engine.js';
import { WakeScheduler, WakeTarget } from '../rules/scheduler.js';
import type { ReadingRecord } from '../gateway/core/records.js';
import type { Clock } from '../gateway/core/contracts.js';
import type { CompiledRule, OperatorOutput } from '../rules/types.js';

const hot = (per: string, extra = '') => `
rules:
  - id: hot
    kind: threshold
    metric: "*"
    per: ${per}
    when: value > 80
${extra}
`;

describe('keys', () => {
  it('per device+metric keeps metrics of one device apart', () => {
    const h = harness(hot('device+metric'));
    h.send(0, 'd', 'a', 90);
    h.send(0, 'd', 'b', 90);
    expect(h.alerts()).toEqual(['+0 raise d/a', '+0 raise d/b']);
    expect(h.alertRecords()[0]!.device).toBe('d');
  });

  it('per tag skips readings without the tag and counts them', () => {
    const h = harness(hot('tag:zone'));
    h.send(0, 'd', 'a', 90);
    h.send(0, 'd', 'a', 90, { tags: { zone: 'z1' } });
    expect(h.alerts()).toEqual(['+0 raise z1']);
    expect(h.engine.stats().rules[0]!.ignored).toBe(1);
  });

  it('caps keys per rule, evicting the least recently seen and clearing its alert', () => {
    const h = harness(hot('device', '    state: { maxKeys: 2 }'));
    h.send(0, 'd1', 'm', 90);
    h.send(1, 'd2', 'm', 10);
    h.send(2, 'd3', 'm', 10); // evicts d1, which was firing
    const s = h.engine.stats().rules[0]!;
    expect(s.stateKeys).toBe(2);
    expect(s.evictions).toEqual({ capacity: 1, idle: 0 });
    expect(h.alerts()).toEqual(['+0 raise d1', '+2 clear d1']);
    expect(h.alertRecords()[1]!.message).toMatch(/state evicted: more than 2 keys/);
    // d1 comes back to fresh state (its device's slot cache must not serve the evicted entry)
    h.send(3, 'd1', 'm', 90);
    expect(h.alerts()).toEqual(['+0 raise d1', '+2 clear d1', '+3 raise d1']);
    expect(h.engine.stats().rules[0]!.stateKeys).toBe(2);
  });

  it('gives an idle-evicted device fresh state when it reports again', () => {
    const h = harness(hot('device', '    state: { idleTtl: 10s }'));
    h.send(0, 'd1', 'm', 90);
    for (let t = 1000; t <= 30_000; t += 1000) h.send(t, 'd2', 'm', 10);
    h.send(31_000, 'd1', 'm', 95);
    expect(h.alerts()).toEqual(['+0 raise d1', expect.stringMatching(/clear d1$/), '+31000 raise d1']);
  });

  it('evicts idle keys after the TTL', () => {
    const h = harness(hot('device', '    state: { idleTtl: 10s }'));
    h.send(0, 'd1', 'm', 90);
    h.send(0, 'd2', 'm', 10);
    for (let t = 1000; t <= 30_000; t += 1000) h.send(t, 'd2', 'm', 10); // d2 stays busy
    const s = h.engine.stats().rules[0]!;
    expect(s.stateKeys).toBe(1);
    expect(s.evictions.idle).toBe(1);
    expect(h.alerts()[1]).toMatch(/clear d1$/);
  });

  it('a tag key evicted while idle is not served again from a device slot; a device changing zone changes key', () => {
    const h = harness(hot('tag:zone', '    state: { idleTtl: 10s }'));
    const zoneA = { zone: 'a' }; // one tags object per device, as profiles give them
    const zoneB = { zone: 'b' };
    h.send(0, 'd1', 'm', 90, { tags: zoneA });
    for (let t = 1000; t <= 30_000; t += 1000) h.send(t, 'd2', 'm', 10, { tags: zoneB });
    h.send(31_000, 'd1', 'm', 95, { tags: zoneA });
    expect(h.alerts()).toEqual(['+0 raise a', expect.stringMatching(/clear a$/), '+31000 raise a']);
    h.send(32_000, 'd1', 'm', 99, { tags: zoneB });
    expect(h.alerts().slice(3)).toEqual(['+32000 raise b']);
    h.send(33_000, 'd1', 'm', 10, { tags: zoneA });
    expect(h.alerts().slice(4)).toEqual(['+33000 clear a']);
  });

  it('never evicts a key before it has been silent for the TTL, however its readings fall around the LRU grains', () => {
    // TTL 16 s: the LRU moves a key at most once a second (TTL/16) and sweeps every 1.6 s, so a key's
    // last move can lag its last reading by a second; a reading just after a move is due must move it
    for (const second of [1050, 1300, 1800, 1999, 2600]) {
      const h = harness(hot('device', '    state: { idleTtl: 16s }'));
      h.send(0, 'd1', 'm', 10);
      h.send(second, 'd1', 'm', 90);
      h.advance(40_000);
      const clear = h.alertRecords().find((a) => a.state === 'clear');
      expect(clear?.message, `second reading at ${second} ms`).toMatch(/state evicted: no reading for 16s/);
      expect(clear!.ts - T0 - second, `evicted after ${clear!.ts - T0 - second} ms of silence`).toBeGreaterThanOrEqual(16_000);
    }
  });

  it('filters by device globs and exact tags before any expression', () => {
    const h = harness(`
rules:
  - id: f
    kind: threshold
    metric: m
    match: { devices: ["gh-*", "lab.1"], tags: { site: north } }
    when: value > 0
`);
    h.send(0, 'gh-7', 'm', 1, { tags: { site: 'north' } });
    h.send(0, 'gh-8', 'm', 1, { tags: { site: 'south' } });
    h.send(0, 'lab.1', 'm', 1, { tags: { site: 'north' } });
    h.send(0, 'labx1', 'm', 1, { tags: { site: 'north' } });
    expect(h.alerts()).toEqual(['+0 raise gh-7', '+0 raise lab.1']);
    expect(h.engine.stats().rules[0]!.evaluations).toBe(2);
  });
});

describe("a device key's tags", () => {
  const zone1 = { zone: 'z1' }; // one tags object per device, as profiles give them
  const zone2 = { zone: 'z2' };

  it('are those of its latest reading when a timer fires: derived readings, `having` and deadman raises', () => {
    for (const aggregate of ['avg', 'p50']) {
      // avg: the window keeps only numbers; p50: the window keeps its raw values too (another state)
      const h = harness(`
rules:
  - { id: w, kind: window, metric: m, window: { type: tumbling, size: 1m }, aggregates: [${aggregate}], having: 'tags.zone == "z2"', lateness: 0s, emit: { metric: m_1m } }
  - { id: dead, kind: absence, metric: m, after: 2m }
`);
      h.send(1000, 'd1', 'm', 10, { tags: zone1 });
      h.send(30_000, 'd1', 'm', 20, { tags: zone2 }); // moved to another zone mid-window
      h.advance(60_000); // the window closes on the timer, not on a reading of d1
      expect(h.derived().map((r) => r.tags), aggregate).toEqual([zone2]);
      expect(h.alertRecords().map((a) => `${a.rule} ${a.state} ${a.tags['zone']}`), aggregate).toEqual(['w raise z2']);
      h.advance(200_000);
      expect(h.alertRecords().map((a) => `${a.rule} ${a.state} ${a.tags['zone']}`).at(-1), aggregate).toBe('dead raise z2');
    }
  });

  it('survive the device cache starting over (hot reload) and go into snapshots', () => {
    const rules = `
rules:
  - { id: dead, kind: absence, metric: m, after: 2m }
  - { id: hot, kind: threshold, metric: m, when: value > 90 }
`;
    const h = harness(rules);
    h.send(0, 'd1', 'm', 10, { tags: zone1 });
    h.send(1000, 'd1', 'm', 10, { tags: zone2 });
    const saved = h.engine.snapshot();
    expect(saved.rules['dead']!.keys.map((k) => k.tags)).toEqual([zone2]);
    expect(saved.rules['hot']!.keys.map((k) => k.tags)).toEqual([zone2]);
    // a reload drops every device's slots; the kept deadman key must keep the tags the slot knew
    h.engine.replace(rulesFrom(`${rules}  - { id: other, kind: threshold, metric: n, when: value > 0 }\n`));
    h.advance(200_000);
    expect(h.alertRecords().map((a) => `${a.rule} ${a.state} ${a.tags['zone']}`)).toEqual(['dead raise z2']);
  });
});

describe('wake-ups a device queued', () => {
  it('a later deadline behind a queued wake-up is found when that wake-up comes, early or after an idle spell', () => {
    const h = harness(`
rules:
  - { id: slow, kind: threshold, metric: m, when: value > 80, for: 30s }
`);
    h.send(0, 'd', 'm', 90); // pending: a wake-up queued for +30s
    h.send(10_000, 'd', 'm', 10); // idle again (the wake-up stays queued)
    h.send(20_000, 'd', 'm', 95); // pending since +20s: due +50s, behind the +30s wake-up, so not queued now
    h.advance(49_999);
    expect(h.alerts()).toEqual([]);
    h.advance(50_000);
    expect(h.alerts()).toEqual(['+50000 raise d']);
    // that wake-up is gone: a new deadline after it must be queued afresh
    h.send(60_000, 'd', 'm', 10);
    h.send(70_000, 'd', 'm', 90);
    h.send(80_000, 'd', 'm', 10);
    h.send(90_000, 'd', 'm', 99);
    h.advance(119_999);
    expect(h.alerts()).toEqual(['+50000 raise d', '+60000 clear d']);
    h.advance(120_000);
    expect(h.alerts()).toEqual(['+50000 raise d', '+60000 clear d', '+120000 raise d']);
  });
});

describe('time', () => {
  it('processing time uses the clock at arrival, not the reading ts', () => {
    const h = harness(`
rules:
  - { id: p, kind: threshold, metric: m, time: processing, when: value > 0, for: 10s }
`);
    h.send(0, 'd', 'm', 1, { eventAt: -3_600_000 });
    h.advance(10_000);
    expect(h.alerts()).toEqual(['+10000 raise d']);
  });
});

describe('replace (hot reload)', () => {
  const v1 = `
rules:
  - { id: a, kind: threshold, metric: m, when: value > 80, for: 10s }
  - { id: b, kind: threshold, metric: m, when: value > 90 }
  - { id: c, kind: threshold, metric: m, when: value > 95 }
`;
  it('keeps state of unchanged rules, restarts changed ones, clears alerts of removed ones', () => {
    const h = harness(v1);
    h.send(0, 'd', 'm', 99); // a pending, b and c raised
    expect(h.alerts()).toEqual(['+0 raise d', '+0 raise d']);
    const summary = h.engine.replace(
      rulesFrom(`
rules:
  # same definition, other formatting and key order: still unchanged
  - { kind: threshold, id: a, when: "value > 80", metric: m, for: 10s }
  - { id: b, kind: threshold, metric: m, when: value > 91 }
  - { id: d, kind: threshold, metric: m, when: value > 0 }
`),
    );
    expect(summary).toEqual({ added: ['d'], changed: ['b'], removed: ['c'], kept: ['a'] });
    const cleared = h.alertRecords().slice(2);
    expect(cleared.map((r) => `${r.rule} ${r.state}`)).toEqual(['b clear', 'c clear']);
    expect(cleared[0]!.message).toMatch(/\(rule changed\)$/);
    expect(cleared[1]!.message).toMatch(/\(rule removed\)$/);
    h.advance(10_000);
    // a kept its pending state from before the reload
    expect(h.alertRecords().at(-1)).toMatchObject({ rule: 'a', state: 'raise', ts: T0 + 10_000 });
    expect(h.engine.rules().map((r) => r.id)).toEqual(['a', 'b', 'd']);
  });

  it('routes readings by the new rule set at once', () => {
    const h = harness(v1);
    h.engine.replace(rulesFrom(`
rules:
  - { id: x, kind: threshold, metric: other, when: value > 0 }
`));
    h.send(0, 'd', 'm', 100);
    h.send(0, 'd', 'other', 1);
    expect(h.alertRecords().map((r) => r.rule)).toEqual(['x']);
  });
});

describe('stats, errors, snapshot', () => {
  it('counts per rule and reports errors at most once per interval', () => {
    const h = harness(`
rules:
  - { id: t, kind: threshold, metric: m, when: tags.zone == "a" }
`);
    for (let i = 0; i < 100; i++) h.send(i, 'd', 'm', 1);
    h.send(61_000, 'd', 'm', 1);
    const s = h.engine.stats().rules[0]!;
    expect(s).toMatchObject({ rule: 't', kind: 'threshold', evaluations: 101, errors: 101, raises: 0, stateKeys: 1 });
    expect(s.evalMeanUs).toBeGreaterThan(0);
    expect(h.errors).toHaveLength(2);
    expect(h.errors[1]!.suppressed).toBe(99);
    expect(String(h.errors[0]!.error)).toMatch(/No such key: zone/);
  });

  it('a throwing emit does not break the engine', () => {
    const clock = new VirtualClock(T0);
    let calls = 0;
    const engine = createRuleEngine({
      rules: rulesFrom(hot('device')),
      clock,
      emit: () => {
        calls++;
        throw new Error('sink down');
      },
    });
    engine.process(reading('d', 'm', 90, T0));
    engine.process(reading('d', 'm', 10, T0 + 1));
    expect(calls).toBe(2);
    expect(engine.stats().emitErrors).toBe(2);
  });

  it('an operator that throws counts an error against its rule; the rules after it still see the reading', () => {
    const [first, broken, last] = rulesFrom(`
rules:
  - { id: first, kind: threshold, metric: m, when: value > 80 }
  - { id: broken, kind: threshold, metric: m, when: value > 80 }
  - { id: last, kind: threshold, metric: m, when: value > 80 }
`);
    const original = broken!;
    const throwing: CompiledRule = {
      ...original,
      createOperator: (env) => {
        const op = original.createOperator(env);
        return { ...op, quiet: undefined, onReading: (st: unknown, r: ReadingRecord, out: OperatorOutput) => (r.device === 'bad' ? boom() : op.onReading(st, r, out)) };
      },
    };
    const boom = (): never => {
      throw new Error('operator bug');
    };
    const h = harness([first!, throwing, last!]);
    h.send(0, 'bad', 'm', 90);
    h.send(1, 'bad', 'm', 91);
    h.send(2, 'good', 'm', 90);
    expect(h.alerts()).toEqual(['+0 raise bad', '+0 raise bad', '+2 raise good', '+2 raise good', '+2 raise good']);
    expect(h.alertRecords().map((a) => a.rule)).toEqual(['first', 'last', 'first', 'broken', 'last']);
    expect(h.engine.stats().rules.map((r) => r.errors)).toEqual([0, 2, 0]);
    expect(h.errors.map((e) => `${e.rule} ${String(e.error)}`)).toEqual(['broken Error: operator bug']);
  });

  it('snapshot is plain JSON and restores firing state without re-raising', () => {
    const h = harness(hot('device'));
    h.send(0, 'd', 'm', 90);
    const snap = h.engine.snapshot();
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
    const h2 = harness(hot('device'));
    expect(h2.engine.restore(snap)).toEqual({ restored: ['hot'], skipped: [] });
    h2.send(1000, 'd', 'm', 95);
    h2.send(2000, 'd', 'm', 10);
    expect(h2.alerts()).toEqual(['+2000 clear d']);
    expect(h2.engine.stats().rules[0]!.firing).toBe(0);
  });

  it('skips snapshot state of a rule whose definition changed', () => {
    const h = harness(hot('device'));
    h.send(0, 'd', 'm', 90);
    const h2 = harness(hot('device', '    severity: info'));
    expect(h2.engine.restore(h.engine.snapshot())).toEqual({ restored: [], skipped: ['hot'] });
  });

  it('rejects duplicate rule ids at creation', () => {
    const rules = rulesFrom(hot('device'));
    expect(() => createRuleEngine({ rules: [...rules, ...rules], clock: new VirtualClock(0), emit: () => {} })).toThrow(/duplicate rule id/);
  });
});

describe('WakeScheduler', () => {
  /** Like a rule key: checks its own deadline when woken, since a wake-up may come early (lazy extension). */
  class Target extends WakeTarget {
    constructor(
      public deadline: number,
      readonly onWake: (t: Target, now: number) => void,
    ) {
      super();
      this.wantWakeAt(deadline);
    }
    moveTo(deadline: number): void {
      this.deadline = deadline;
      this.wantWakeAt(deadline);
    }
    wake(now: number): void {
      if (now < this.deadline) this.wantWakeAt(this.deadline);
      else this.onWake(this, now);
    }
  }
  const target = (log: string[], name: string, want: number): Target =>
    new Target(want, (t, now) => {
      log.push(`${name}@${now}`);
      t.wants = false;
    });

  it('wakes in due order with one clock timer, re-queues deadlines that moved later, skips dead targets', () => {
    const clock = new VirtualClock(0);
    const s = new WakeScheduler(clock);
    const log: string[] = [];
    const a = target(log, 'a', 30);
    const b = target(log, 'b', 10);
    const c = target(log, 'c', 20);
    [a, b, c].forEach((t) => s.update(t));
    expect(clock.pending()).toBe(1);
    b.moveTo(25); // moved later: no new entry now; the old one pops, wakes b early, and b asks again
    expect(s.update(b)).toBe(false);
    expect(s.pending).toBe(3);
    c.alive = false;
    clock.advanceTo(100);
    expect(log).toEqual(['b@25', 'a@30']);
    expect(clock.pending()).toBe(0);
    expect(s.pending).toBe(0);
    expect(b.wants).toBe(false);
  });

  it('re-arms when its timer fires a little early (a system timer rounds its delay)', () => {
    const clock = new VirtualClock(0);
    const early: Clock = {
      now: () => clock.now(),
      setTimeout: (fn, ms) => clock.setTimeout(fn, Math.max(1, ms - 1)),
      clearTimeout: (h) => clock.clearTimeout(h),
    };
    const s = new WakeScheduler(early);
    const log: string[] = [];
    s.update(target(log, 'a', 10));
    clock.advanceTo(9); // the timer fires at 9, when nothing is due yet
    expect(log).toEqual([]);
    clock.advanceTo(100);
    expect(log).toEqual(['a@10']);
  });

  it('queues a deadline that moved earlier at once, and skips the stale later entry', () => {
    const clock = new VirtualClock(0);
    const s = new WakeScheduler(clock);
    const log: string[] = [];
    const a = target(log, 'a', 50);
    s.update(a);
    a.moveTo(20);
    expect(s.update(a)).toBe(true);
    expect(s.pending).toBe(2);
    clock.advanceTo(100);
    expect(log).toEqual(['a@20']);
  });

  it('wakes targets due at the same time in the order they were queued, across many entries', () => {
    const clock = new VirtualClock(0);
    const s = new WakeScheduler(clock);
    const log: string[] = [];
    // 200 targets over 10 due times, queued in a scrambled order: the heap must give due order, then queue order
    const order = Array.from({ length: 200 }, (_, i) => (i * 37) % 200);
    for (const i of order) s.update(target(log, `t${i}`, 10 + (i % 10)));
    clock.advanceTo(1000);
    const expected = [...order].sort((x, y) => (x % 10) - (y % 10) || order.indexOf(x) - order.indexOf(y)).map((i) => `t${i}@${10 + (i % 10)}`);
    expect(log).toEqual(expected);
  });

  it('does not spin on a target that stays due after waking', () => {
    const clock = new VirtualClock(0);
    const s = new WakeScheduler(clock);
    let wakes = 0;
    const t = new Target(5, () => void wakes++);
    s.update(t);
    clock.advanceTo(5);
    expect(wakes).toBe(1);
    clock.advanceTo(6);
    expect(wakes).toBe(2);
  });
});
