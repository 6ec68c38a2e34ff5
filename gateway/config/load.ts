/**
 * Loads weir.yaml: YAML with positions, `${ENV}` interpolation, profile files,
 * schema defaults and validation, cross-field checks. Every problem is reported
 * at once; the result is deep-frozen.
 */
import { dirname, resolve } from 'node:path';
import { globSync } from 'tinyglobby';
import { WeirConfig } from './schema.js';
import { readYamlFile, parseYamlText, type Problem, type YamlSource } from '../core/yaml-source.js';
import { interpolateEnv, type InterpolationProblem } from './interpolate.js';
import { applyDefaultsAndValidate, sortProblems } from '../core/validate.js';
import { checkConfigSemantics } from './semantics.js';
import { loadProfileFiles } from './profile-files.js';
import type { DeviceProfile } from '../../devices/profiles/schema.js';
import type { CompiledRule } from '../../rules/index.js';
import { loadConfiguredRules } from '../compose/rule-files.js';

export interface LoadedConfig {
  readonly config: WeirConfig;
  /** Profiles from `profiles:` and `profileFiles:`, in the order they are tried. */
  readonly profiles: readonly DeviceProfile[];
  readonly file: string | undefined;
  /** The rules of `rules.files`, compiled (not frozen: compiled expressions are live objects). */
  readonly rules: readonly CompiledRule[];
}

export type LoadResult = { ok: true; loaded: LoadedConfig } | { ok: false; problems: Problem[] };

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): LoadResult {
  const { source, problems } = readYamlFile(file);
  if (!source) return { ok: false, problems };
  return loadFromSource(source, problems, env, dirname(resolve(file)));
}

/** The embedded default: no file, every value from the schema's defaults. */
export function loadDefaultConfig(env: NodeJS.ProcessEnv = process.env): LoadResult {
  const { source, problems } = parseYamlText('(defaults)', '{}');
  return loadFromSource(source!, problems, env, process.cwd(), undefined);
}

function loadFromSource(
  source: YamlSource,
  problems: Problem[],
  env: NodeJS.ProcessEnv,
  baseDir: string,
  file: string | undefined = source.file,
): LoadResult {
  if (source.data === null || typeof source.data !== 'object' || Array.isArray(source.data)) {
    return { ok: false, problems: [...problems, { file: source.file, line: 1, col: 1, message: 'the config must be a mapping of sections' }] };
  }
  const envProblems: InterpolationProblem[] = [];
  const interpolated: YamlSource = { ...source, data: interpolateEnv(source.data, env, envProblems) };
  for (const p of envProblems) problems.push({ file: source.file, ...source.locate(p.path), message: `${p.path.join('.')}: ${p.message}` });

  const validated = applyDefaultsAndValidate(WeirConfig, interpolated);
  problems.push(...validated.problems);
  if (!validated.value) return { ok: false, problems: sortProblems(problems) };
  const config = validated.value;

  const fromFiles = loadProfileFiles(config.profileFiles, baseDir, env, globSync);
  problems.push(...fromFiles.problems);
  const profiles = [...config.profiles, ...fromFiles.profiles];
  problems.push(...checkConfigSemantics(config, profiles, interpolated, fromFiles.origins));
  const rules = loadConfiguredRules(config.rules.files, baseDir);
  if (!rules.ok) problems.push(...rules.problems);
  if (problems.length > 0 || !rules.ok) return { ok: false, problems: sortProblems(problems) };
  return { ok: true, loaded: { ...deepFreeze({ config, profiles, file }), rules: rules.rules } };
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
