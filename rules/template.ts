/**
 * Alert message templates: `{device} at {value:1} °C since {since}`. A
 * placeholder is a dotted path into the alert's variables with an optional
 * number of decimals; `{{` and `}}` are literal braces. Placeholders are
 * checked against the rule kind's variables at load, so a typo is a load error
 * rather than a message that says "n/a" at 3 a.m.
 */

type Part = string | { readonly path: readonly string[]; readonly decimals: number | undefined };

export interface Template {
  readonly source: string;
  render(vars: Readonly<Record<string, unknown>>): string;
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
  return { ok: true, template: { source, render: (vars) => render(parts, vars) } };
}

function render(parts: readonly Part[], vars: Readonly<Record<string, unknown>>): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') {
      out += p;
      continue;
    }
    let v: unknown = vars;
    for (const seg of p.path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[seg] : undefined;
    out += format(v, p.decimals);
  }
  return out;
}

function format(v: unknown, decimals: number | undefined): string {
  if (v === undefined || v === null) return 'n/a';
  if (typeof v === 'number') {
    if (decimals !== undefined) return v.toFixed(decimals);
    return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e6) / 1e6);
  }
  if (typeof v === 'string' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map((x) => format(x, decimals)).join(', ');
  return JSON.stringify(v);
}

/** Renders epoch ms the way messages show time. */
export function isoTime(ts: number): string {
  return new Date(ts).toISOString();
}
