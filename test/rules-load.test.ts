import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatProblem } from '../gateway/core/yaml-source.js';
import { loadRuleFiles, loadRuleSources } from '../rules/load.js';
import { RULES_JSON_SCHEMA } from '../rules/schema.js';
import { rulesFrom } from './rules-helpers.js';

const rule = (body: string) => `rules:\n  - id: a\n${body}`;

/** [name, file text, expected `line:col: message` lines] */
const INVALID: readonly [string, string, readonly string[]][] = [
  [
    'bad expression (points inside it)',
    rule('    kind: threshold\n    metric: m\n    when: value > 80 &&\n'),
    ['5:24: rules.0.when: Unexpected token: EOF'],
  ],
  [
    'bad expression in quotes',
    rule('    kind: threshold\n    metric: m\n    when: "value >> 80"\n'),
    ['5:19: rules.0.when: Unexpected token: GT'],
  ],
  [
    'unknown variable in a block scalar',
    rule('    kind: threshold\n    metric: m\n    when: |\n      value > 80 &&\n      foo < 3\n'),
    ['7:7: rules.0.when: Unknown variable: foo (available here: value, metric, device, tags, ts)'],
  ],
  [
    'a condition that is not true/false',
    rule('    kind: threshold\n    metric: m\n    when: value + 1\n'),
    ['5:11: rules.0.when: a condition must be true or false, but this is a + expression'],
  ],
  ['unknown field', rule('    kind: threshold\n    metric: m\n    when: value > 1\n    severty: info\n'), ['6:5: rules.0.severty: unknown key']],
  [
    '`within` on a non-sequence rule',
    rule('    kind: threshold\n    metric: m\n    when: value > 1\n    within: 5m\n'),
    ['6:5: rules.0.within: unknown key: `within` belongs to sequence and group rules'],
  ],
  [
    'unknown kind',
    rule('    kind: thresold\n    metric: m\n    when: value > 1\n'),
    ['3:11: rules.0.kind: unknown kind "thresold"; expected one of threshold, window, rate, sequence, absence, group'],
  ],
  [
    'missing `per` on a group rule',
    rule('    kind: group\n    metric: m\n    when: value > 1\n    atLeast: 3\n    within: 1m\n'),
    ['2:5: rules.0: a group rule combines devices: set `per: tag:<name>` (e.g. tag:zone) or `per: global`'],
  ],
  [
    'duplicate ids',
    'rules:\n  - { id: a, kind: threshold, metric: m, when: value > 1 }\n  - { id: a, kind: threshold, metric: m, when: value > 2 }\n',
    ['3:11: rules.1.id: duplicate rule id "a" (first defined at f.yaml:2:11)'],
  ],
  [
    'YAML alias bomb',
    'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\nrules: []\n',
    ['1:1: Excessive alias count indicates a resource exhaustion attack'],
  ],
  [
    'bad duration',
    'rules:\n  - { id: a, kind: threshold, metric: m, when: value > 1, for: 10 seconds }\n',
    ['2:64: rules.0.for: "10 seconds" does not match a duration such as 500ms, 30s, 5m, 1h'],
  ],
  ['unknown message placeholder', rule('    kind: threshold\n    metric: m\n    when: value > 1\n    message: "{devcie} hot"\n'), ['6:14: rules.0.message: unknown placeholder {devcie}']],
  [
    'having on an aggregate not computed',
    rule('    kind: window\n    metric: m\n    window: { type: tumbling, size: 1m }\n    aggregates: [avg]\n    having: p95 > 3\n'),
    ['7:13: rules.0.having: Unknown variable: p95 (available here: count, start, end, key, device, metric, tags, avg)'],
  ],
  [
    'hopping window without hop',
    rule('    kind: window\n    metric: m\n    window: { type: hopping, size: 1m }\n    aggregates: [avg]\n    emit: { metric: x }\n'),
    ['5:13: rules.0.window: hopping windows need hop'],
  ],
  [
    'a sequence step referring to a later step',
    rule('    kind: sequence\n    metric: m\n    within: 1m\n    steps:\n      - { name: a1, when: value > b1.value }\n      - { name: b1, when: value > 1 }\n'),
    ['7:35: rules.0.steps.0.when: Unknown variable: b1 (available here: value, metric, device, tags, ts)'],
  ],
  [
    'a test expecting an alert of a rule not in the file',
    'rules:\n  - { id: a, kind: threshold, metric: m, when: value > 1 }\ntests:\n  - name: t\n    readings: []\n    expect:\n      - { at: 0s, rule: b, state: raise }\n',
    ['7:25: tests.0.expect.0.rule: no rule "b" in this file'],
  ],
  ['broken YAML', 'rules:\n  - id: a\n   kind: x\n', ['3:1: Sequence item without - indicator']],
];

describe('invalid rule files', () => {
  it.each(INVALID)('%s', (_name, text, expected) => {
    const r = loadRuleSources([{ file: 'f.yaml', text }]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => formatProblem(p).replace(/^f\.yaml:/, ''))).toEqual(expected);
  });

  it('reports every problem of every file at once, and loads nothing', () => {
    const r = loadRuleSources([
      { file: 'one.yaml', text: rule('    kind: threshold\n    metric: m\n    when: value >\n    message: "{x}"\n') },
      { file: 'two.yaml', text: 'rules:\n  - { id: a, kind: absence, metric: m, after: 1m }\n  - { id: b, kind: absence, metric: m, after: 1 }\n' },
    ]);
    expect(r.ok ? [] : r.problems.map(formatProblem)).toEqual([
      'one.yaml:5:18: rules.0.when: Unexpected token: EOF',
      'two.yaml:3:47: rules.1.after: expected string',
    ]);
  });

  it('refuses an oversized file and an unreadable one with their names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-rules-'));
    const big = join(dir, 'big.yaml');
    writeFileSync(big, `# ${'x'.repeat(1024 * 1024)}\nrules: []\n`);
    const r = loadRuleFiles([big, join(dir, 'missing.yaml')]);
    expect(r.ok ? [] : r.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^rule file is \d+ bytes; the limit is 1048576$/),
      expect.stringMatching(/^cannot read file: ENOENT/),
    ]);
  });
});

describe('valid rule files', () => {
  it('apply defaults and freeze the loaded rules', () => {
    const [r] = rulesFrom('rules:\n  - { id: a, kind: threshold, metric: m, when: value > 1 }\n');
    expect(r!.definition).toMatchObject({ enabled: true, time: 'event', lateness: '1s', severity: 'warning' });
    expect(r!.key).toEqual({ by: 'device' });
    expect(Object.isFrozen(r!.definition)).toBe(true);
    expect(Object.isFrozen(r)).toBe(true);
  });

  it('leave disabled rules out', () => {
    expect(rulesFrom('rules:\n  - { id: a, kind: threshold, metric: m, when: value > 1, enabled: false }\n')).toEqual([]);
  });

  it('hash the definition canonically: formatting and key order do not matter, values do', () => {
    const a = rulesFrom('rules:\n  - { id: a, kind: threshold, metric: m, when: value > 1 }\n')[0]!.hash;
    const b = rulesFrom('rules:\n  - when: "value > 1"\n    metric: m\n    kind: threshold\n    id: a\n')[0]!.hash;
    const c = rulesFrom('rules:\n  - { id: a, kind: threshold, metric: m, when: value > 2 }\n')[0]!.hash;
    const d = rulesFrom('rules:\n  - { id: a, kind: threshold, metric: m, when: value > 1, description: words }\n')[0]!.hash;
    expect(a).toBe(b);
    expect(a).toBe(d);
    expect(a).not.toBe(c);
  });
});

describe('RULES_JSON_SCHEMA', () => {
  it('is plain JSON Schema that rejects unknown keys and knows every kind', () => {
    expect(RULES_JSON_SCHEMA['$id']).toBe('https://weir.dev/schemas/rules.v1.json');
    expect(RULES_JSON_SCHEMA['additionalProperties']).toBe(false);
    const rules = (RULES_JSON_SCHEMA['properties'] as Record<string, { items: { anyOf: { properties: { kind: { const: string } }; additionalProperties: boolean }[] } }>)['rules']!;
    expect(rules.items.anyOf.map((m) => m.properties.kind.const)).toEqual(['threshold', 'window', 'rate', 'sequence', 'absence', 'group']);
    expect(rules.items.anyOf.every((m) => m.additionalProperties === false)).toBe(true);
    expect(JSON.stringify(RULES_JSON_SCHEMA)).not.toMatch(/Symbol/);
  });
});
