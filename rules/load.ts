/**
 * Loads a whole set of rule files or none: YAML (alias bombs refused), schema
 * (unknown keys refused), expressions, templates and cross-file checks, with
 * every problem reported at once as file:line:col. A hot reload swaps rules
 * only when this says ok.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseYamlText, type Problem, type YamlSource } from '../gateway/core/yaml-source.js';
import { applyDefaultsAndValidate } from '../gateway/core/validate.js';
import { Value } from '@sinclair/typebox/value';
import type { TObject } from '@sinclair/typebox';
import { RuleFile, RuleDefinition, type RuleTestCase } from './schema.js';
import { ActionSpec } from './schema-common.js';
import { compileRule } from './compile.js';
import type { CompiledRule } from './types.js';

export interface LoadedRuleFile {
  readonly file: string;
  /** Enabled rules of this file. */
  readonly rules: readonly CompiledRule[];
  readonly tests: readonly RuleTestCase[];
}

export type LoadResult =
  | { readonly ok: true; readonly rules: readonly CompiledRule[]; readonly files: readonly LoadedRuleFile[] }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/** A rule file is configuration; anything larger is a mistake or an attack. */
export const MAX_RULE_FILE_BYTES = 1024 * 1024;

export function loadRuleFiles(paths: readonly string[]): LoadResult {
  const sources: { file: string; text: string }[] = [];
  const problems: Problem[] = [];
  for (const file of paths) {
    try {
      const size = statSync(file).size;
      if (size > MAX_RULE_FILE_BYTES) {
        problems.push({ file, line: 1, col: 1, message: `rule file is ${size} bytes; the limit is ${MAX_RULE_FILE_BYTES}` });
        continue;
      }
      sources.push({ file, text: readFileSync(file, 'utf8') });
    } catch (e) {
      problems.push({ file, line: 1, col: 1, message: `cannot read file: ${(e as Error).message}` });
    }
  }
  const result = loadRuleSources(sources);
  if (problems.length === 0) return result;
  return { ok: false, problems: [...problems, ...(result.ok ? [] : result.problems)] };
}

export function loadRuleSources(sources: readonly { readonly file: string; readonly text: string }[]): LoadResult {
  const problems: Problem[] = [];
  const files: LoadedRuleFile[] = [];
  const firstSeen = new Map<string, Problem>();
  for (const { file, text } of sources) {
    if (text.length > MAX_RULE_FILE_BYTES) {
      problems.push({ file, line: 1, col: 1, message: `rule file is larger than ${MAX_RULE_FILE_BYTES} bytes` });
      continue;
    }
    const parsed = parseYamlText(file, text);
    problems.push(...parsed.problems);
    if (!parsed.source) continue;
    // defaults of union members first: a rule with one mistake must not also report its defaulted keys as missing
    const checked = applyDefaultsAndValidate(RuleFile, { ...parsed.source, data: withMemberDefaults(parsed.source.data) });
    problems.push(...checked.problems.map(withKindHint));
    if (!checked.value) continue;
    const rules: CompiledRule[] = [];
    checked.value.rules.forEach((def, i) => {
      const where = parsed.source!.locate(['rules', i, 'id']);
      const here = { file, line: where.line, col: where.col, message: '' };
      const first = firstSeen.get(def.id);
      if (first) {
        problems.push({ ...here, message: `rules.${i}.id: duplicate rule id ${JSON.stringify(def.id)} (first defined at ${first.file}:${first.line}:${first.col})` });
      } else firstSeen.set(def.id, here);
      const rule = compileRule(def, parsed.source!, text, ['rules', i], problems);
      if (rule && def.enabled) rules.push(rule);
    });
    const tests = checked.value.tests ?? [];
    checkTestReferences(parsed.source, checked.value.rules.map((r) => r.id), tests, problems);
    files.push({ file, rules, tests });
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, rules: files.flatMap((f) => f.rules), files };
}

function checkTestReferences(source: YamlSource, ids: readonly string[], tests: readonly RuleTestCase[], problems: Problem[]): void {
  const known = new Set(ids);
  const unknown = (path: (string | number)[], id: string) => {
    const where = source.locate(path);
    problems.push({ file: source.file, line: where.line, col: where.col, message: `${path.join('.')}: no rule ${JSON.stringify(id)} in this file` });
  };
  tests.forEach((t, i) => {
    t.rules?.forEach((id, j) => known.has(id) || unknown(['tests', i, 'rules', j], id));
    t.expect.forEach((e, j) => e.rule === undefined || known.has(e.rule) || unknown(['tests', i, 'expect', j, 'rule'], e.rule));
    if (Number.isNaN(Date.parse(t.start))) {
      const where = source.locate(['tests', i, 'start']);
      problems.push({ file: source.file, line: where.line, col: where.col, message: `tests.${i}.start: not an ISO 8601 time` });
    }
  });
}

/**
 * TypeBox applies a union member's defaults only to a value that already
 * validates, so each rule (and action) gets its kind's defaults here.
 */
function withMemberDefaults(data: unknown): unknown {
  if (!isRecord(data) || !Array.isArray(data['rules'])) return data;
  const rules = data['rules'].map((rule: unknown) => {
    const r = defaultsByKind(RuleDefinition.anyOf, rule);
    if (isRecord(r) && Array.isArray(r['actions'])) r['actions'] = r['actions'].map((a: unknown) => defaultsByKind(ActionSpec.anyOf, a));
    return r;
  });
  return { ...data, rules };
}

function defaultsByKind(members: readonly TObject[], value: unknown): unknown {
  if (!isRecord(value)) return value;
  const member = members.find((m) => (m.properties['kind'] as { const?: unknown } | undefined)?.const === value['kind']);
  return member ? Value.Default(member, structuredClone(value)) : value;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Which kinds accept each key, to say "within belongs to sequence and group rules" rather than only "unknown key". */
const KINDS_BY_KEY = (() => {
  const map = new Map<string, string[]>();
  for (const member of RuleDefinition.anyOf) {
    const kind = String(member.properties.kind.const);
    for (const key of Object.keys(member.properties)) map.set(key, [...(map.get(key) ?? []), kind]);
  }
  return map;
})();

function withKindHint(p: Problem): Problem {
  const m = /^rules\.\d+\.([A-Za-z]+): unknown key$/.exec(p.message);
  const kinds = m ? KINDS_BY_KEY.get(m[1]!) : undefined;
  if (!kinds) return p;
  return { ...p, message: `${p.message}: \`${m![1]}\` belongs to ${kinds.join(' and ')} rules` };
}
