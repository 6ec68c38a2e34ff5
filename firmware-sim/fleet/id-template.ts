/** Device ids from a template: `gh-{i:02}` -> gh-01, gh-02; `{name}-{i}` -> zone-b-1. */

const PLACEHOLDER = /\{([a-z]+)(?::(\d+))?\}/g;

/** Placeholders a template may use. */
export const ID_PLACEHOLDERS = ['i', 'name'] as const;

export function unknownPlaceholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!).filter((p) => !(ID_PLACEHOLDERS as readonly string[]).includes(p));
}

export function expandId(template: string, vars: { readonly i: number; readonly name: string }): string {
  return template.replace(PLACEHOLDER, (whole, key: string, width: string | undefined) => {
    const value = key === 'i' ? String(vars.i) : key === 'name' ? vars.name : whole;
    return width === undefined ? value : value.padStart(Number(width), '0');
  });
}

/** `gh-0*` style globs; `*` matches any run of characters. */
export function globMatcher(glob: string): (s: string) => boolean {
  const re = new RegExp(`^${glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return (s) => re.test(s);
}
