import { describe, expect, it } from 'vitest';
import { harness, T0 } from './rules-helpers.js';
import { AlertRecordV1, type AlertRecord } from '../gateway/core/records.js';
import { Value } from '@sinclair/typebox/value';
import { compileTemplate } from '../rules/template.js';
import { mqttTopicsFor } from '../rules/actions.js';

const hot = (extra: string) => `
rules:
  - id: hot
    kind: threshold
    metric: temp
    when: value > 80
    severity: critical
${extra}
`;

describe('alert lifecycle', () => {
  it('emits v1 alert records with severity, message, evidence, tags and labels', () => {
    const h = harness(hot(`    labels: { team: facilities }
    message: "{device} at {value:1} ({tags.room}, {labels.team}, {severity}, {ts})"`));
    h.send(0, 'd1', 'temp', 81.25, { tags: { room: 'r1' } });
    const a = h.alertRecords()[0]!;
    expect(Value.Check(AlertRecordV1, a)).toBe(true);
    expect(a).toMatchObject({
      v: 1, kind: 'alert', rule: 'hot', key: 'd1', device: 'd1', state: 'raise', severity: 'critical', ts: T0, value: 81.25,
      message: 'd1 at 81.3 (r1, facilities, critical, 2024-01-01T00:00:00.000Z)',
      tags: { room: 'r1', team: 'facilities' },
    });
    h.send(1000, 'd1', 'temp', 20, { tags: { room: 'r1' } });
    const c = h.alertRecords()[1]!;
    expect(Value.Check(AlertRecordV1, c)).toBe(true);
    expect(c.message).toBe('resolved: d1 at 20.0 (r1, facilities, critical, 2024-01-01T00:00:01.000Z)');
  });

  it('cooldown holds back a raise too soon after the previous one, and the clear that ends it', () => {
    const h = harness(hot('    cooldown: 1m'));
    h.send(0, 'd', 'temp', 90);
    h.send(1000, 'd', 'temp', 70);
    h.send(2000, 'd', 'temp', 90); // 2 s after the last raise: held back
    h.send(3000, 'd', 'temp', 70); // its clear is held back too
    h.send(60_000, 'd', 'temp', 90); // exactly the cooldown later: allowed
    expect(h.alerts()).toEqual(['+0 raise d', '+1000 clear d', '+60000 raise d']);
    expect(h.engine.stats().rules[0]!.suppressed).toBe(1);
  });

  it('flap suppression: past N transitions within T nothing is emitted; after the storm the true state is', () => {
    const h = harness(hot('    flap: { transitions: 4, within: 1m }'));
    const values = [90, 70, 90, 70, 90, 70, 90];
    values.forEach((v, i) => h.send(i * 1000, 'd', 'temp', v));
    // raise, clear, raise emitted; the 4th transition makes it flapping
    expect(h.alerts()).toEqual(['+0 raise d', '+1000 clear d', '+2000 raise d']);
    h.send(120_000, 'd', 'temp', 70); // storm over: subscribers last saw "raise", the truth is "clear"
    expect(h.alerts()).toEqual(['+0 raise d', '+1000 clear d', '+2000 raise d', '+120000 clear d']);
    expect(h.engine.stats().rules[0]!.suppressed).toBe(4);
  });

  it('keeps evidence within limits.maxEvidence', () => {
    const h = harness(
      `
rules:
  - { id: z, kind: group, metric: t, per: global, when: value > 0, atLeast: 5, within: 1m }
`,
      { limits: { maxEvidence: 3 } },
    );
    for (let i = 0; i < 5; i++) h.send(i, `d${i}`, 't', 1);
    expect(h.alertRecords()[0]!.evidence).toHaveLength(3);
  });
});

describe('message templates', () => {
  const known = (p: readonly string[]) => ['device', 'value'].includes(p[0]!) || p[0] === 'tags';
  it('renders placeholders, decimals and literal braces', () => {
    const t = compileTemplate('{{x}} {device}: {value:2} {tags.zone} {missing.x}', (p) => known(p) || p[0] === 'missing');
    expect(t.ok && t.template.render({ device: 'd', value: 1.005, tags: { zone: 'z' } })).toBe('{x} d: 1.00 z n/a');
  });
  it('rejects unknown placeholders and unbalanced braces with an offset', () => {
    expect(compileTemplate('hi {devcie}', known)).toEqual({ ok: false, message: 'unknown placeholder {devcie}', offset: 3 });
    expect(compileTemplate('hi {device', known)).toMatchObject({ ok: false, offset: 3 });
    expect(compileTemplate('hi }', known)).toMatchObject({ ok: false, offset: 3 });
  });
});

describe('MQTT topics', () => {
  const alert: AlertRecord = { v: 1, kind: 'alert', id: 'x', rule: 'hot', key: 'site/a', state: 'raise', severity: 'warning', message: '', ts: 0, evidence: [], tags: {} };
  it('defaults to weir/alerts/{rule}/{device} plus a retained /state topic, safe as topic levels', () => {
    expect(mqttTopicsFor({ ...alert, device: 'd+1' })).toEqual({ event: 'weir/alerts/hot/d_1', state: 'weir/alerts/hot/d_1/state' });
    expect(mqttTopicsFor(alert)).toEqual({ event: 'weir/alerts/hot/site_a', state: 'weir/alerts/hot/site_a/state' });
    expect(mqttTopicsFor(alert, { topic: 'x/{severity}/{key}', stateTopic: 'y/{rule}' })).toEqual({ event: 'x/warning/site_a', state: 'y/hot' });
  });
});
