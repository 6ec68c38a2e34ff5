/**
 * `${VAR}` and `${VAR:-fallback}` in config strings, so secrets stay out of files.
 * `$${` writes a literal `${`. An unset variable without a fallback is an error,
 * never an empty string: a missing password should stop boot, not log in as "".
 */
export interface InterpolationProblem {
  readonly path: (string | number)[];
  readonly message: string;
}

const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function interpolateEnv(
  data: unknown,
  env: NodeJS.ProcessEnv,
  problems: InterpolationProblem[],
  path: (string | number)[] = [],
): unknown {
  if (typeof data === 'string') return interpolateString(data, env, problems, path);
  if (Array.isArray(data)) return data.map((item, i) => interpolateEnv(item, env, problems, [...path, i]));
  if (data !== null && typeof data === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(data)) out[k] = interpolateEnv(v, env, problems, [...path, k]);
    return out;
  }
  return data;
}

function interpolateString(s: string, env: NodeJS.ProcessEnv, problems: InterpolationProblem[], path: (string | number)[]): string {
  if (!s.includes('$')) return s;
  return s.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${';
    const value = env[name!];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    problems.push({ path, message: `environment variable ${name} is not set (write \${${name}:-default} for a fallback)` });
    return '';
  });
}
