/**
 * Alert message templates: `{device} at {value:1} °C since {since}`. A
 * placeholder is a dotted path into the alert's variables with an optional
 * number of decimals; `{{` and `}}` are literal braces. Placeholders are
 * checked against the rule kind's variables at load, so a typo is a load error
 * rather than a message that says "n/a" at 3 a.m.
 */
import { integerText } from '../gateway/core/number-text.js';

type Part = string | { readonly path: readonly string[]; readonly decimals: number | undefined };

export interface Template {
  readonly source: string;
  render(vars: Readonly<Record<string, unknown>>): string;
  /** Same, with the first name of each placeholder looked up by `root` (no merged copy of several variable sets). */
  renderBy(root: (name: string) => unknown): string;
}

export type TemplateResult =
  | { readonly ok: true; readonly template: Template }
  | { readonly ok: false; readonly message: string; readonly offset: number };

const PLACEHOLDER = /^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)(?::(\d))?$/;

export function compileTemplate(source: string, known: (path: readonly string[]) => boolean): TemplateResult {
  const parts: Part[] = [];
  let text = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if ((c === '{' || c === '}') && source[i + 1] === c) {
      text += c;
      i++;
      continue;
    }
    if (c === '}') return { ok: false, message: 'unmatched "}" in message (write "}}" for a literal brace)', offset: i };
    if (c !== '{') {
      text += c;
      continue;
    }
    const close = source.indexOf('}', i);
    if (close < 0) return { ok: false, message: 'unclosed "{" in message', offset: i };
    const inner = source.slice(i + 1, close).trim();
    const m = PLACEHOLDER.exec(inner);
    if (!m) return { ok: false, message: `bad placeholder {${inner}}`, offset: i };
    const path = m[1]!.split('.');
    if (!known(path)) return { ok: false, message: `unknown placeholder {${m[1]}}`, offset: i };
    if (text) parts.push(text);
    text = '';
    parts.push({ path, decimals: m[2] === undefined ? undefined : Number(m[2]) });
    i = close;
  }
  if (text) parts.push(text);
  return { ok: true, template: { source, render: (vars) => render(parts, (name) => vars[name]), renderBy: (root) => render(parts, root) } };
}

function render(parts: readonly Part[], root: (name: string) => unknown): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') {
      out += p;
      continue;
    }
    let v: unknown = root(p.path[0]!);
    for (let i = 1; i < p.path.length; i++) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[p.path[i]!] : undefined;
    out += format(v, p.decimals);
  }
  return out;
}

function format(v: unknown, decimals: number | undefined): string {
  if (v === undefined || v === null) return 'n/a';
  if (typeof v === 'number') {
    if (decimals !== undefined) return v.toFixed(decimals);
    // integers (counts, ids, most test and sensor values) without V8's number-string cache: see integerText
    return Number.isInteger(v) ? integerText(v) : String(Math.round(v * 1e6) / 1e6);
  }
  if (typeof v === 'string' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map((x) => format(x, decimals)).join(', ');
  return JSON.stringify(v);
}

const DAY_MS = 86_400_000;
let dayStart = NaN;
let dayPrefix = '';

/**
 * Renders epoch ms the way messages show time: exactly Date#toISOString, but
 * alerts come in runs from one day, so the date part is kept and only the
 * time of day is formatted (a Date and its formatting cost more than the rest
 * of building an alert).
 */
export function isoTime(ts: number): string {
  const t = Math.trunc(ts); // what Date keeps of a fractional millisecond
  const ms = t - dayStart;
  if (!(ms >= 0 && ms < DAY_MS)) {
    const iso = new Date(ts).toISOString(); // throws on an invalid time, as before
    if (iso.length !== 24) return iso; // years past 9999 or before 0: leave them to Date
    dayStart = Math.floor(t / DAY_MS) * DAY_MS;
    dayPrefix = iso.slice(0, 11);
    return iso;
  }
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const sec = Math.floor(ms / 1000) % 60;
  const milli = ms % 1000;
  return `${dayPrefix}${h < 10 ? '0' : ''}${h}:${m < 10 ? '0' : ''}${m}:${sec < 10 ? '0' : ''}${sec}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}
