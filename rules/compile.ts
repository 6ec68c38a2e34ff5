/**
 * A validated rule definition to a CompiledRule: durations parsed, key and
 * filters resolved, expressions and templates compiled, each problem placed at
 * the file:line:col of the text that caused it (inside the expression, where
 * the parser says).
 */
import type { Problem, YamlSource } from '../gateway/core/yaml-source.js';
import { parseDuration } from '../gateway/core/units.js';
import { compileCondition } from './expr.js';
import { compileTemplate, type Template } from './template.js';
import { canonicalHash, deepFreeze } from './hash.js';
import type { RuleDefinition } from './schema.js';
import type { CompileContext, CompiledKind, CompiledRule, KeySpec } from './types.js';
import { isCommonPlaceholder } from './operators/shared.js';
import { thresholdKind } from './operators/threshold.js';
import { windowKind } from './operators/window.js';
import { rateKind } from './operators/rate.js';
import { sequenceKind } from './operators/sequence.js';
import { absenceKind } from './operators/absence.js';
import { groupKind } from './operators/group.js';

type Path = readonly (string | number)[];

export function compileRule(def: RuleDefinition, source: YamlSource, text: string, base: Path, problems: Problem[]): CompiledRule | undefined {
  const before = problems.length;
  const at = (path: Path, message: string, offset = 0): void => {
    problems.push(placeInText(source, text, [...base, ...path], message, offset));
  };
  const key = parseKey(def.per);
  const selector = def.metric;
  const metrics = selector === undefined ? [] : typeof selector === 'string' ? [selector] : [...selector];
  const c: CompileContext = {
    key,
    perGiven: def.per !== undefined,
    metrics,
    condition(path, expr, variables) {
      const r = compileCondition(expr, variables);
      if (r.ok) return r.expression;
      const hint = r.message.startsWith('Unknown variable') ? ` (available here: ${Object.keys(variables).join(', ')})` : '';
      at(path, `${name([...base, ...path])}: ${r.message}${hint}`, r.offset);
      return undefined;
    },
    problem(path, message) {
      at(path, `${name([...base, ...path])}: ${message}`);
    },
    duration: parseDuration,
  };
  const kind = compileKind(def, c);
  if (!kind) return undefined;
  const template = (field: 'message' | 'clearMessage', textOf: string | undefined): Template | undefined => {
    if (textOf === undefined) return undefined;
    const r = compileTemplate(textOf, (p) => isCommonPlaceholder(p) || kind.knownPlaceholder(p));
    if (r.ok) return r.template;
    at([field], `${name([...base, field])}: ${r.message}`, r.offset);
    return undefined;
  };
  const message = template('message', def.message ?? kind.defaultMessage);
  const clearMessage = template('clearMessage', def.clearMessage);
  if (problems.length > before || !message) return undefined;
  const allMetrics = kind.metrics ?? metrics;
  const definition = deepFreeze(structuredClone(def) as unknown as Record<string, unknown>);
  return Object.freeze({
    id: def.id,
    kind: def.kind,
    // the description is documentation: editing it must not reset a rule's state
    hash: canonicalHash({ ...def, description: undefined }),
    file: source.file,
    definition,
    metrics: Object.freeze(allMetrics.includes('*') ? ['*'] : [...new Set(allMetrics)]),
    matchDevice: def.match?.devices ? globMatcher(def.match.devices) : undefined,
    matchTags: Object.freeze(Object.entries(def.match?.tags ?? {})),
    key,
    time: def.time,
    latenessMs: parseDuration(def.lateness),
    severity: def.severity,
    message,
    clearMessage,
    labels: Object.freeze({ ...def.labels }),
    cooldownMs: def.cooldown === undefined ? undefined : parseDuration(def.cooldown),
    flap: def.flap ? { transitions: def.flap.transitions, withinMs: parseDuration(def.flap.within) } : undefined,
    maxKeys: def.state?.maxKeys,
    idleTtlMs: def.state?.idleTtl === undefined ? undefined : parseDuration(def.state.idleTtl),
    actions: deepFreeze(structuredClone(def.actions ?? [])),
    createOperator: kind.create,
  });
}

/** One line per rule kind. */
function compileKind(def: RuleDefinition, c: CompileContext): CompiledKind | undefined {
  switch (def.kind) {
    case 'threshold':
      return thresholdKind.compile(def, c);
    case 'window':
      return windowKind.compile(def, c);
    case 'rate':
      return rateKind.compile(def, c);
    case 'sequence':
      return sequenceKind.compile(def, c);
    case 'absence':
      return absenceKind.compile(def, c);
    case 'group':
      return groupKind.compile(def, c);
  }
}

function parseKey(per: string | undefined): KeySpec {
  if (per === undefined || per === 'device') return { by: 'device' };
  if (per === 'device+metric') return { by: 'device+metric' };
  if (per === 'global') return { by: 'global' };
  return { by: 'tag', tag: per.slice('tag:'.length) };
}

function globMatcher(globs: readonly string[]): (device: string) => boolean {
  const alternatives = globs.map((g) => g.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*'));
  const re = new RegExp(`^(?:${alternatives.join('|')})$`);
  return (device) => re.test(device);
}

export function name(path: Path): string {
  return path.join('.');
}

/**
 * The line:col of a character inside a scalar: plain and quoted scalars on one
 * line add the offset to the column; block scalars (| and >) walk their lines.
 */
export function placeInText(source: YamlSource, text: string, path: Path, message: string, offset: number): Problem {
  const where = source.locate(path);
  const lines = text.split(/\r?\n/);
  const line = lines[where.line - 1] ?? '';
  const first = line[where.col - 1];
  if (offset === 0 || first === undefined) return { file: source.file, line: where.line, col: where.col, message };
  if (first === '|' || first === '>') {
    let rest = offset;
    for (let n = where.line; n < lines.length; n++) {
      const content = lines[n]!;
      const indent = content.length - content.trimStart().length;
      const len = content.length - indent;
      if (rest <= len) return { file: source.file, line: n + 1, col: indent + 1 + rest, message };
      rest -= len + 1;
    }
    return { file: source.file, line: where.line, col: where.col, message };
  }
  const quoted = first === '"' || first === "'" ? 1 : 0;
  return { file: source.file, line: where.line, col: where.col + quoted + offset, message };
}
