/**
 * A shortcut for the conditions people write most (`value > 80`,
 * `abs(value - 50) > 5 && tags.zone == "a"`): the checked CEL tree is turned,
 * once, into a tree of closures that reads numbers, strings and booleans
 * straight from the context. No code is generated; it is still an interpreter.
 *
 * It answers only where cel-js would give the same value: any other case (a
 * string compared with a number, a missing tag, an unknown variable, a
 * non-plain map) gives ASK_CEL and the caller runs cel-js, which then returns
 * its result or throws the error it always threw. A condition with anything
 * outside the subset below is not compiled at all.
 *
 * Subset: double, string and bool literals, int literals within ±2^31;
 * declared variables; `map.field`; < <= > >= on numbers; == != on two values
 * of one primitive type; + - * / on numbers (not int with int); unary - and !;
 * && || ?: on bools; abs round floor ceil sqrt of a number; `x in [strings]`.
 */
import type { VariableSet } from './expr.js';

export const ASK_CEL: unique symbol = Symbol('ask cel-js');
type Ctx = Record<string, unknown>;
type Fast = (ctx: Ctx) => unknown;
/** num: a number at run time (or ASK_CEL); int: an int literal (CEL int arithmetic differs); any: dyn. */
type Kind = 'num' | 'int' | 'str' | 'bool' | 'map' | 'any';
interface Compiled {
  readonly fn: Fast;
  readonly kind: Kind;
  /** The value, when the node is a literal. */
  readonly constant?: unknown;
  /** The name, when the node is a variable that may hold a number. */
  readonly variable?: string;
}

/** What compileFast reads of a cel-js AST node. */
export interface CelNode {
  readonly op: string;
  readonly args: unknown;
}

const MAX_INT = 2 ** 31;
const hasOwn = Object.hasOwn;
const MATH: Record<string, (x: number) => number> = { abs: Math.abs, round: Math.round, floor: Math.floor, ceil: Math.ceil, sqrt: Math.sqrt };

/** `variable OP number` as data: < <= > >= coded small, so an operator can switch on it. */
export const BOUND_GT = 0;
export const BOUND_GE = 1;
export const BOUND_LT = 2;
export const BOUND_LE = 3;
export interface ValueBound {
  /** The variable compared: `value` for most conditions, `rate` for a rate rule's. */
  readonly variable: string;
  readonly op: number;
  readonly k: number;
}
const BOUND_OPS: Record<string, number> = { '>': BOUND_GT, '>=': BOUND_GE, '<': BOUND_LT, '<=': BOUND_LE };

/**
 * The condition as a ValueBound when it is exactly a variable compared with
 * a number literal: the shape fusedCompare answers for every number
 * (anything else is left to the closure tree and cel-js).
 */
export function valueBoundOf(ast: CelNode, vars: VariableSet): ValueBound | undefined {
  const op = hasOwn(BOUND_OPS, ast.op) ? BOUND_OPS[ast.op] : undefined;
  if (op === undefined) return undefined;
  const [l, r] = ast.args as [CelNode, CelNode];
  const name = l.args;
  if (l.op !== 'id' || typeof name !== 'string' || !hasOwn(vars, name) || (vars[name] !== 'dyn' && vars[name] !== 'double')) return undefined;
  const k = r.op === 'value' ? literal(r.args)?.constant : undefined;
  return typeof k === 'number' ? { variable: name, op, k } : undefined;
}

/** The closure tree for a checked condition, or undefined when it uses anything outside the subset. */
export function compileFast(ast: CelNode, variables: VariableSet): Fast | undefined {
  return node(ast, variables)?.fn;
}

function node(n: CelNode, vars: VariableSet): Compiled | undefined {
  const a = n.args;
  switch (n.op) {
    case 'value':
      return literal(a);
    case 'id':
      return typeof a === 'string' ? variable(a, vars[a]) : undefined;
    case '.': {
      const [obj, field] = a as [CelNode, unknown];
      const o = node(obj, vars);
      return o?.kind === 'map' && typeof field === 'string' ? { fn: fieldOf(o.fn, field), kind: 'any' } : undefined;
    }
    case '<': case '<=': case '>': case '>=':
      return pair(a, vars, (l, r) => (isNumeric(l) && isNumeric(r) ? compare(n.op, l, r) : undefined));
    case '==': case '!=':
      return pair(a, vars, (l, r) => (l.kind === 'map' || r.kind === 'map' ? undefined : equality(n.op === '!=', l, r)));
    case '+': case '-': case '*': case '/':
      return pair(a, vars, (l, r) => (isNumeric(l) && isNumeric(r) && !(l.kind === 'int' && r.kind === 'int') ? arithmetic(n.op, l.fn, r.fn) : undefined));
    case '-_': {
      const x = node(a as CelNode, vars);
      if (!x || !isNumeric(x)) return undefined;
      if (x.kind === 'int') return literal(BigInt(-(x.constant as number)));
      const f = x.fn;
      return { fn: (c) => { const v = f(c); return typeof v === 'number' ? -v : ASK_CEL; }, kind: 'num' };
    }
    case '!_': {
      const f = node(a as CelNode, vars)?.fn;
      return f && { fn: (c) => { const v = f(c); return v === true ? false : v === false ? true : ASK_CEL; }, kind: 'bool' };
    }
    case '&&': case '||':
      return pair(a, vars, (l, r) => ({ fn: logic(n.op === '&&', l.fn, r.fn), kind: 'bool' }));
    case '?:': {
      const [c0, t0, e0] = (a as CelNode[]).map((x) => node(x, vars));
      if (!c0 || !t0 || !e0) return undefined;
      const [cond, then, other] = [c0.fn, t0.fn, e0.fn];
      return { fn: (c) => { const v = cond(c); return v === true ? then(c) : v === false ? other(c) : ASK_CEL; }, kind: 'any' };
    }
    case 'call': {
      const [name, list] = a as [string, CelNode[]];
      const f = MATH[name];
      const x = list.length === 1 ? node(list[0]!, vars) : undefined;
      if (!f || !hasOwn(MATH, name) || !x || x.kind === 'int' || !isNumeric(x)) return undefined;
      const arg = x.fn;
      return { fn: (c) => { const v = arg(c); return typeof v === 'number' ? f(v) : ASK_CEL; }, kind: 'num' };
    }
    case 'in': {
      const [left, right] = a as [CelNode, CelNode];
      const l = node(left, vars);
      const items = right.op === 'list' ? (right.args as CelNode[]) : undefined;
      if (!l || !items || !items.every((i) => i.op === 'value' && typeof i.args === 'string')) return undefined;
      const set = new Set(items.map((i) => i.args as string));
      const f = l.fn;
      return { fn: (c) => { const v = f(c); return typeof v === 'string' ? set.has(v) : ASK_CEL; }, kind: 'bool' };
    }
    default:
      return undefined;
  }
}

function literal(v: unknown): Compiled | undefined {
  if (typeof v === 'bigint') {
    if (v > BigInt(MAX_INT) || v < -BigInt(MAX_INT)) return undefined;
    const x = Number(v);
    return { fn: () => x, kind: 'int', constant: x };
  }
  if (typeof v === 'number') return { fn: () => v, kind: 'num', constant: v };
  if (typeof v === 'string') return { fn: () => v, kind: 'str', constant: v };
  if (typeof v === 'boolean') return { fn: () => v, kind: 'bool', constant: v };
  return undefined;
}

/** cel-js reads `ctx[name]` (undefined: unknown variable) and checks it against the declared type. */
function variable(name: string, type: VariableSet[string] | undefined): Compiled | undefined {
  const read = reader(name);
  switch (type) {
    case 'double':
      return { fn: (c) => { const v = read(c); return typeof v === 'number' ? v : ASK_CEL; }, kind: 'num', variable: name };
    case 'string':
      return { fn: (c) => { const v = read(c); return typeof v === 'string' ? v : ASK_CEL; }, kind: 'str' };
    case 'bool':
      return { fn: (c) => { const v = read(c); return typeof v === 'boolean' ? v : ASK_CEL; }, kind: 'bool' };
    case 'map':
      return { fn: (c) => { const v = read(c); return v === undefined ? ASK_CEL : v; }, kind: 'map' };
    case 'dyn':
      return { fn: (c) => { const v = read(c); return v === undefined ? ASK_CEL : v; }, kind: 'any', variable: name };
    default:
      return undefined;
  }
}

/** The reading's own fields get a named property read: a keyed read by a variable name is slower. */
function reader(name: string): Fast {
  switch (name) {
    case 'value': return (c) => c.value;
    case 'ts': return (c) => c.ts;
    case 'device': return (c) => c.device;
    case 'metric': return (c) => c.metric;
    case 'tags': return (c) => c.tags;
    default: return (c) => c[name];
  }
}

/** cel-js's field access on a plain object: own keys only; a missing key is an error (so: ask cel-js). */
function fieldOf(obj: Fast, field: string): Fast {
  return (c) => {
    const o = obj(c);
    if (typeof o !== 'object' || o === null || o.constructor !== Object || !hasOwn(o, field)) return ASK_CEL;
    const v = (o as Ctx)[field];
    return typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? v : ASK_CEL;
  };
}

function pair(a: unknown, vars: VariableSet, make: (l: Compiled, r: Compiled) => Compiled | undefined): Compiled | undefined {
  const [x, y] = a as [CelNode, CelNode];
  const l = node(x, vars);
  const r = l && node(y, vars);
  return l && r ? make(l, r) : undefined;
}

function isNumeric(x: Compiled): boolean {
  return x.kind === 'num' || x.kind === 'int' || x.kind === 'any';
}

function compare(op: string, l: Compiled, r: Compiled): Compiled {
  const lf = l.fn;
  if (typeof r.constant === 'number' && l.variable !== undefined) return { fn: fusedCompare(op, l.variable, r.constant), kind: 'bool' };
  if (typeof r.constant === 'number') {
    const k = r.constant;
    const fn: Fast =
      op === '>' ? (c) => { const v = lf(c); return typeof v === 'number' ? v > k : ASK_CEL; }
      : op === '>=' ? (c) => { const v = lf(c); return typeof v === 'number' ? v >= k : ASK_CEL; }
      : op === '<' ? (c) => { const v = lf(c); return typeof v === 'number' ? v < k : ASK_CEL; }
      : (c) => { const v = lf(c); return typeof v === 'number' ? v <= k : ASK_CEL; };
    return { fn, kind: 'bool' };
  }
  const rf = r.fn;
  const cmp: (x: number, y: number) => boolean =
    op === '>' ? (x, y) => x > y : op === '>=' ? (x, y) => x >= y : op === '<' ? (x, y) => x < y : (x, y) => x <= y;
  return {
    fn: (c) => {
      const x = lf(c);
      if (typeof x !== 'number') return ASK_CEL;
      const y = rf(c);
      return typeof y === 'number' ? cmp(x, y) : ASK_CEL;
    },
    kind: 'bool',
  };
}

/**
 * The usual `value > 80` as one closure that reads and compares: a number
 * returned from one closure to another is boxed (an allocation per reading);
 * read and compared in one, it is not.
 */
function fusedCompare(op: string, name: string, k: number): Fast {
  if (name === 'value') {
    if (op === '>') return (c) => { const v = c.value; return typeof v === 'number' ? v > k : ASK_CEL; };
    if (op === '>=') return (c) => { const v = c.value; return typeof v === 'number' ? v >= k : ASK_CEL; };
    if (op === '<') return (c) => { const v = c.value; return typeof v === 'number' ? v < k : ASK_CEL; };
    return (c) => { const v = c.value; return typeof v === 'number' ? v <= k : ASK_CEL; };
  }
  if (op === '>') return (c) => { const v = c[name]; return typeof v === 'number' ? v > k : ASK_CEL; };
  if (op === '>=') return (c) => { const v = c[name]; return typeof v === 'number' ? v >= k : ASK_CEL; };
  if (op === '<') return (c) => { const v = c[name]; return typeof v === 'number' ? v < k : ASK_CEL; };
  return (c) => { const v = c[name]; return typeof v === 'number' ? v <= k : ASK_CEL; };
}

/** Same primitive type on both sides: plain ===. Mixed types are cel-js's to judge. */
function equality(negate: boolean, l: Compiled, r: Compiled): Compiled {
  const lf = l.fn;
  const k = r.constant;
  if (k !== undefined) {
    // the usual `tags.zone == "a"`
    const t = typeof k;
    const fn: Fast = negate
      ? (c) => { const x = lf(c); return typeof x === t ? x !== k : ASK_CEL; }
      : (c) => { const x = lf(c); return typeof x === t ? x === k : ASK_CEL; };
    return { fn, kind: 'bool' };
  }
  const rf = r.fn;
  return {
    fn: (c) => {
      const x = lf(c);
      const y = rf(c);
      const t = typeof x;
      if (t !== typeof y || (t !== 'number' && t !== 'string' && t !== 'boolean')) return ASK_CEL;
      return negate ? x !== y : x === y;
    },
    kind: 'bool',
  };
}

function arithmetic(op: string, lf: Fast, rf: Fast): Compiled {
  const f: (x: number, y: number) => number = op === '+' ? (x, y) => x + y : op === '-' ? (x, y) => x - y : op === '*' ? (x, y) => x * y : (x, y) => x / y;
  return {
    fn: (c) => {
      const x = lf(c);
      if (typeof x !== 'number') return ASK_CEL;
      const y = rf(c);
      return typeof y === 'number' ? f(x, y) : ASK_CEL;
    },
    kind: 'num',
  };
}

/** CEL's && and || ignore an error on one side when the other decides; here any doubt asks cel-js. */
function logic(and: boolean, lf: Fast, rf: Fast): Fast {
  const decides = !and;
  return (c) => {
    const x = lf(c);
    if (x === decides) return decides;
    if (x !== !decides) return ASK_CEL;
    const y = rf(c);
    return y === true || y === false ? y : ASK_CEL;
  };
}
