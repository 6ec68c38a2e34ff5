/**
 * Validation against a TypeBox schema with every error reported at once,
 * each at the line and column of the offending value.
 */
import { Value } from '@sinclair/typebox/value';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import type { TSchema, Static } from '@sinclair/typebox';
import type { Problem, YamlSource } from './yaml-source.js';

export function applyDefaultsAndValidate<T extends TSchema>(
  schema: T,
  source: YamlSource,
  basePath: readonly (string | number)[] = [],
): { value?: Static<T>; problems: Problem[] } {
  // Defaults go onto a copy: the caller's data stays as written.
  const value = Value.Default(schema, structuredClone(source.data));
  const problems = firstPerPath(collectErrors(schema, value)).map((e) => toProblem(e, source, basePath));
  return problems.length === 0 ? { value: value as Static<T>, problems } : { problems: sortProblems(problems) };
}

function collectErrors(schema: TSchema, value: unknown): ValueError[] {
  const out: ValueError[] = [];
  for (const error of Value.Errors(schema, value)) {
    if (error.type === ValueErrorType.Union) {
      const narrowed = narrowUnionByKind(error);
      if (narrowed) {
        out.push(...narrowed);
        continue;
      }
    }
    out.push(error);
  }
  return out;
}

/** For `kind:`-tagged unions, report the errors of the member the value chose, not "expected union". */
function narrowUnionByKind(error: ValueError): ValueError[] | undefined {
  const v = error.value as { kind?: unknown } | null;
  if (typeof v !== 'object' || v === null || !('kind' in v)) return undefined;
  const member = (error.schema.anyOf as TSchema[] | undefined)?.find(
    (s) => (s.properties as Record<string, TSchema> | undefined)?.kind?.const === v.kind,
  );
  if (!member) {
    const kinds = (error.schema.anyOf as TSchema[]).map((s) => (s.properties as Record<string, TSchema>).kind?.const).filter(Boolean);
    return [{ ...error, type: OWN_MESSAGE, path: `${error.path}/kind`, message: `unknown kind ${JSON.stringify(v.kind)}; expected one of ${kinds.join(', ')}` }];
  }
  return collectErrors(member, v).map((e) => ({ ...e, path: error.path + e.path }));
}

/** Marks an error whose message this file wrote itself. */
const OWN_MESSAGE = -1 as ValueErrorType;

function toProblem(e: ValueError, source: YamlSource, basePath: readonly (string | number)[]): Problem {
  const path = [...basePath, ...e.path.split('/').slice(1).map(unescapePointer)];
  const where = source.locate(path, { key: e.type === ValueErrorType.ObjectAdditionalProperties });
  const name = path.length ? path.join('.') : '(top level)';
  return { file: source.file, line: where.line, col: where.col, message: `${name}: ${describe(e)}` };
}

function describe(e: ValueError): string {
  switch (e.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return 'unknown key';
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required';
    case ValueErrorType.StringPattern:
      return `${JSON.stringify(e.value)} does not match ${describePattern(e.schema)}`;
    case ValueErrorType.Union: {
      const consts = (e.schema.anyOf as TSchema[]).map((s) => s.const).filter((c) => c !== undefined);
      if (consts.length) return `${JSON.stringify(e.value)} is not one of ${consts.map((c) => JSON.stringify(c)).join(', ')}`;
      return `${JSON.stringify(e.value)} is not allowed here`;
    }
    case OWN_MESSAGE:
      return e.message;
    default:
      return e.message.charAt(0).toLowerCase() + e.message.slice(1);
  }
}

function describePattern(schema: TSchema): string {
  const p = String(schema.pattern);
  if (p.includes('ms|s|m|h|d')) return 'a duration such as 500ms, 30s, 5m, 1h';
  if (p.includes('KiB')) return 'a size such as 512B, 256KiB, 64MiB';
  return `the pattern ${p}`;
}

function unescapePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** A missing value also fails its type check; the first error per path says it best. */
function firstPerPath(errors: ValueError[]): ValueError[] {
  const seen = new Set<string>();
  return errors.filter((e) => !seen.has(e.path) && seen.add(e.path));
}

export function sortProblems<P extends Problem>(problems: P[]): P[] {
  return problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
}
