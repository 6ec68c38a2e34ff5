/**
 * Rule conditions in CEL (@marcbachmann/cel-js): parsed and type-checked once
 * at load, interpreted at run time (common shapes by expr-fast.ts, the rest by
 * cel-js). Nothing is compiled to JavaScript, so no rule can reach `eval`,
 * `Function` or the process. Why CEL over filtrex, with
 * the measured speeds: rules/README.md.
 */
import { Environment } from '@marcbachmann/cel-js';
import { ASK_CEL, BOUND_GE, BOUND_GT, BOUND_LT, compileFast, valueBoundOf, type CelNode, type ValueBound } from './expr-fast.js';

export type { ValueBound } from './expr-fast.js';

export type CelType = 'dyn' | 'double' | 'string' | 'map' | 'bool';
export type VariableSet = Readonly<Record<string, CelType>>;

export interface CompiledExpression {
  readonly source: string;
  /** Throws on evaluation errors (missing key, wrong type); callers count those. */
  readonly run: (context: object) => unknown;
  /** The shortcut inside `run`, when the condition is in its subset: ASK_CEL where it leaves the answer to cel-js. */
  readonly fast: ((context: Record<string, unknown>) => unknown) | undefined;
  /** Set when the condition is a variable compared with a number (`value > 80`, `rate > 5.0`): tested inline, with no call at all. */
  readonly bound: ValueBound | undefined;
}

export type CompileResult =
  | { readonly ok: true; readonly expression: CompiledExpression }
  | { readonly ok: false; readonly message: string; readonly offset: number };

/** The variables every reading-level condition sees. */
export const READING_VARIABLES: VariableSet = { value: 'dyn', metric: 'string', device: 'string', tags: 'map', ts: 'double' };

// Structural caps: a rule file is configuration, not a program.
const LIMITS = { maxAstNodes: 400, maxDepth: 32, maxListElements: 256, maxMapEntries: 64, maxCallArguments: 8 };

/** Top-level operations that can yield a bool when the checker only knows `dyn` (`a.b`, `x ? y : z`). */
const CONDITION_OPS = new Set(['==', '!=', '<', '<=', '>', '>=', 'in', '&&', '||', '!_', 'id', '.', '[]', 'call', 'rcall', '?:']);

const base = createBaseEnvironment();
const environments = new Map<string, Environment>();

function createBaseEnvironment(): Environment {
  const env = new Environment({ limits: LIMITS, homogeneousAggregateLiterals: false });
  // Sensor values arrive as doubles and people write `value + 1 > 80`; plain CEL
  // has no double+int overload, so mixed arithmetic is declared here.
  const ops: Record<string, (a: number, b: number) => number> = {
    '+': (a, b) => a + b,
    '-': (a, b) => a - b,
    '*': (a, b) => a * b,
    '/': (a, b) => a / b,
  };
  for (const [op, f] of Object.entries(ops)) {
    env.registerOperator(`double ${op} int`, (a: number, b: bigint) => f(a, Number(b)));
    env.registerOperator(`int ${op} double`, (a: bigint, b: number) => f(Number(a), b));
  }
  env.registerFunction('abs(double): double', (x: number) => Math.abs(x));
  env.registerFunction('abs(int): int', (x: bigint) => (x < 0n ? -x : x));
  env.registerFunction('round(double): double', (x: number) => Math.round(x));
  env.registerFunction('floor(double): double', (x: number) => Math.floor(x));
  env.registerFunction('ceil(double): double', (x: number) => Math.ceil(x));
  env.registerFunction('sqrt(double): double', (x: number) => Math.sqrt(x));
  return env;
}

function environmentFor(variables: VariableSet): Environment {
  const names = Object.keys(variables).sort();
  const cacheKey = names.map((n) => `${n}:${variables[n]}`).join(',');
  let env = environments.get(cacheKey);
  if (!env) {
    env = base.clone();
    for (const n of names) env.registerVariable(n, variables[n]!);
    environments.set(cacheKey, env);
  }
  return env;
}

/**
 * Parses and type-checks a condition; it must yield a bool (or dyn, checked at
 * run time). `fast: false` leaves every evaluation to cel-js (tests, benchmarks).
 */
export function compileCondition(source: string, variables: VariableSet, options: { readonly fast?: boolean } = {}): CompileResult {
  const env = environmentFor(variables);
  let parsed: ReturnType<Environment['parse']>;
  try {
    parsed = env.parse(source);
  } catch (e) {
    return failure(e);
  }
  const checked = parsed.check();
  if (!checked.valid) return failure(checked.error);
  if (checked.type !== 'bool' && (checked.type !== 'dyn' || !CONDITION_OPS.has(parsed.ast.op))) {
    const what = checked.type === 'dyn' ? `a ${parsed.ast.op} expression` : `a ${checked.type}`;
    return { ok: false, message: `a condition must be true or false, but this is ${what}`, offset: 0 };
  }
  const cel = parsed as (context: object) => unknown;
  // the common shapes skip the interpreter; anything it is unsure of still goes to cel-js
  const fast = options.fast === false ? undefined : compileFast(parsed.ast as CelNode, variables);
  const run = fast
    ? (context: object) => {
        const r = fast(context as Record<string, unknown>);
        return r === ASK_CEL ? cel(context) : r;
      }
    : cel;
  const bound = fast === undefined ? undefined : valueBoundOf(parsed.ast as CelNode, variables);
  return { ok: true, expression: { source, run, fast, bound } };
}

function failure(e: unknown): CompileResult {
  const err = e as { summary?: string; message?: string; range?: { start: number } } | undefined;
  const message = err?.summary ?? firstLine(err?.message ?? String(e));
  return { ok: false, message, offset: err?.range?.start ?? 0 };
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}

/** Runs a condition; `undefined` means it failed (reported to `sink`), so the reading is skipped. */
export function test(expression: CompiledExpression, context: object, sink: { error(e: unknown): void }): boolean | undefined {
  // the shortcut called directly, not through run: one call fewer for nearly every condition
  const fast = expression.fast;
  if (fast !== undefined) {
    const quick = fast(context as Record<string, unknown>);
    if (quick === true || quick === false) return quick;
  }
  let r: unknown;
  try {
    r = expression.run(context);
  } catch (e) {
    sink.error(e);
    return undefined;
  }
  if (r === true || r === false) return r;
  sink.error(new TypeError(`condition ${JSON.stringify(expression.source)} gave ${String(r)}, not true or false`));
  return undefined;
}

/**
 * A condition on one reading: `value > 80` and its kin compared inline (what
 * the fast path would answer, without calling it), anything else by test().
 */
export function testReading(expression: CompiledExpression, reading: object, sink: { error(e: unknown): void }): boolean | undefined {
  const b = expression.bound;
  if (b !== undefined && b.variable === 'value') {
    const v = (reading as { readonly value?: unknown }).value;
    if (typeof v === 'number') return holdsBound(b, v);
  }
  return test(expression, reading, sink);
}

/** A bound's verdict on a number (NaN: false, as in CEL). */
export function holdsBound(b: ValueBound, x: number): boolean {
  const k = b.k;
  switch (b.op) {
    case BOUND_GT:
      return x > k;
    case BOUND_GE:
      return x >= k;
    case BOUND_LT:
      return x < k;
    default:
      return x <= k;
  }
}
