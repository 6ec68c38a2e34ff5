import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRulesTest } from '../rules/cli-test.js';
import { runRulesReplay, parseReadingLine } from '../rules/cli-replay.js';
import { capture } from './rules-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'weir-rules-cli-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const hot = `
rules:
  - id: hot
    kind: threshold
    metric: temp
    when: value > 80
    clear: value < 75
    severity: critical
    message: "{device} at {value}"
`;

describe('weir rules test', () => {
  it('exits 1 with a readable diff when a test expectation does not hold', async () => {
    const f = file(
      'failing.yaml',
      `${hot}
tests:
  - name: clears below 75
    readings:
      - { at: 0s, device: d1, metric: temp, value: 81 }
      - { at: 10s, device: d1, metric: temp, value: 76 }
    expect:
      - { at: 0s, state: raise, device: d1, message: "d1 at 81" }
      - { at: 10s, state: clear, device: d1 }
`,
    );
    const io = capture();
    expect(await runRulesTest([f], io.streams)).toBe(1);
    expect(io.stdout()).toContain(
      [
        '  ✗ clears below 75',
        '      alerts (- expected, not raised; + raised, not expected):',
        '        0s raise hot d1 critical value=81 "d1 at 81"',
        '      - 10s clear d1',
        '',
      ].join('\n'),
    );
    expect(io.stdout()).toContain('1 tests: 0 passed, 1 failed');
  });

  it('shows unexpected alerts with a +', async () => {
    const f = file(
      'extra.yaml',
      `${hot}
tests:
  - name: nothing expected
    readings:
      - { at: 90s, device: d1, metric: temp, value: 90 }
    expect: []
`,
    );
    const io = capture();
    expect(await runRulesTest([f], io.streams)).toBe(1);
    expect(io.stdout()).toContain('      + 90s raise hot d1 critical value=90 "d1 at 90"');
  });

  it('exits 2 and prints file:line:col when a file does not load', async () => {
    const f = file('broken.yaml', 'rules:\n  - { id: x, kind: threshold, metric: m, when: "value >" }\n');
    const io = capture();
    expect(await runRulesTest([f], io.streams)).toBe(2);
    expect(io.stderr()).toBe(`${f}:2:56: rules.0.when: Unexpected token: EOF\n`);
  });

  it('passes a late reading test: eventAt lets a test send readings out of order', async () => {
    const f = file(
      'late.yaml',
      `
rules:
  - id: avg
    kind: window
    metric: m
    lateness: 5s
    window: { type: tumbling, size: 10s }
    aggregates: [avg]
    emit: { metric: m_avg }
tests:
  - name: late but within lateness counts
    readings:
      - { at: 1s, device: d, metric: m, value: 1 }
      - { at: 12s, eventAt: 9s, device: d, metric: m, value: 3 }
      - { at: 16s, eventAt: 8s, device: d, metric: m, value: 100 }
    until: 30s
    expect: []
    expectReadings:
      - { at: 10s, device: d, metric: m_avg, value: 2 }
`,
    );
    const io = capture();
    expect(await runRulesTest([f], io.streams)).toBe(0);
    expect(io.stdout()).toContain('✓ late but within lateness counts');
  });
});

describe('weir rules replay', () => {
  it('prints each transition as one JSON line in time order; bad lines go to stderr and are not fatal', async () => {
    const rules = file(
      'replay.yaml',
      `${hot}
  - id: avg-high
    kind: window
    metric: temp
    lateness: 0s
    window: { type: tumbling, size: 1m }
    aggregates: [avg]
    having: avg > 70
`,
    );
    const events = file(
      'events.ndjson',
      [
        '{"ts": "2024-05-01T10:00:00Z", "device": "d1", "metric": "temp", "value": 70}',
        '{"ts": 1714557630000, "device": "d1", "metric": "temp", "value": 81}',
        'this is not json',
        '{"ts": "yesterday", "device": "d1", "metric": "temp", "value": 1}',
        '{"ts": 1714557640000, "device": "d1", "metric": "temp"}',
        '',
        '{"ts": "2024-05-01T10:00:50Z", "device": "d1", "metric": "temp", "value": 74, "tags": {"room": "a"}}',
        '{"ts": "2024-05-01T10:01:10Z", "device": "d1", "metric": "temp", "value": 60}',
      ].join('\n'),
    );
    const io = capture();
    expect(await runRulesReplay({ rulesFiles: [rules], eventsFile: events, out: io.streams })).toBe(0);
    const lines = io.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l['ts'], l['rule'], l['device'], l['state'], l['severity'], l['value']])).toEqual([
      ['2024-05-01T10:00:30.000Z', 'hot', 'd1', 'raise', 'critical', 81],
      ['2024-05-01T10:00:50.000Z', 'hot', 'd1', 'clear', 'critical', 74],
      ['2024-05-01T10:01:00.000Z', 'avg-high', 'd1', 'raise', 'warning', 75],
    ]);
    expect(io.stderr()).toContain(`${events}:3: not JSON`);
    expect(io.stderr()).toContain(`${events}:4: "ts" must be epoch milliseconds or an ISO 8601 time`);
    expect(io.stderr()).toContain(`${events}:5: "value" must be a number, boolean or string`);
    expect(io.stderr()).toContain('replayed 4 readings, 3 bad lines skipped; 3 alert transitions, 0 derived readings');
  });

  it('exits 2 for a missing events file', async () => {
    const rules = file('r.yaml', hot);
    const io = capture();
    expect(await runRulesReplay({ rulesFiles: [rules], eventsFile: join(dir, 'nope.ndjson'), out: io.streams })).toBe(2);
    expect(io.stderr()).toMatch(/nope\.ndjson: cannot read: ENOENT/);
  });

  it('parses a line into a replay reading', () => {
    expect(parseReadingLine('{"ts":"2024-01-01T00:00:00.5Z","device":"d","metric":"m","value":true,"tags":{"a":"b"}}', 7)).toEqual({
      ok: true,
      reading: { v: 1, kind: 'reading', id: 'line-7', device: 'd', metric: 'm', value: true, ts: 1704067200500, receivedAt: 1704067200500, source: 'replay', tags: { a: 'b' }, flags: ['replay'] },
    });
    expect(parseReadingLine('[1]', 1)).toEqual({ ok: false, reason: 'not a JSON object' });
    expect(parseReadingLine('{"ts":1,"device":"d","metric":"m","value":1,"tags":{"a":1}}', 1)).toEqual({ ok: false, reason: '"tags" must be an object of strings' });
  });
});
