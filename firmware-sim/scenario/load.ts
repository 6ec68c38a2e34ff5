/**
 * Reads a scenario file: YAML with positions, the TypeBox schema with every
 * error at file:line:col, the profile files it names, then the plan.
 */
import { dirname, resolve } from 'node:path';
import { applyDefaultsAndValidate, sortProblems } from '../../gateway/core/validate.js';
import { parseYamlText, readYamlFile, type Problem, type YamlSource } from '../../gateway/core/yaml-source.js';
import type { DeviceProfile } from '../../devices/profiles/schema.js';
import { loadProfileFile, ProfileCatalog } from '../model/profiles.js';
import { planScenario, type SimPlan } from './plan.js';
import { Scenario } from './schema.js';

export interface LoadOptions {
  readonly seed?: number | string;
  readonly durationMs?: number;
  /** Extra profiles tried before the library and the built-ins (a gateway config's `profiles:`). */
  readonly profiles?: readonly DeviceProfile[];
}

export type LoadResult = { readonly ok: true; readonly plan: SimPlan; readonly scenario: Scenario } | { readonly ok: false; readonly problems: readonly Problem[] };

export function loadScenarioFile(file: string, options: LoadOptions = {}): LoadResult {
  return fromRead(readYamlFile(file), file, options);
}

/** The same from text (tests, stdin); `file` names it in messages and anchors relative paths. */
export function loadScenarioText(file: string, text: string, options: LoadOptions = {}): LoadResult {
  return fromRead(parseYamlText(file, text), file, options);
}

function fromRead(read: { source?: YamlSource; problems: Problem[] }, file: string, options: LoadOptions): LoadResult {
  if (!read.source) return { ok: false, problems: read.problems };
  const validated = applyDefaultsAndValidate(Scenario, read.source);
  const problems = [...read.problems, ...validated.problems];
  if (!validated.value) return { ok: false, problems };
  const scenario = validated.value;
  const baseDir = dirname(resolve(file));
  const fromFiles: DeviceProfile[] = [];
  scenario.profileFiles.forEach((p, i) => {
    const loaded = loadProfileFile(resolve(baseDir, p));
    if (loaded.problems.length > 0 && loaded.profiles.length === 0 && loaded.problems[0]!.message.startsWith('cannot read')) {
      problems.push({ file, ...read.source!.locate(['profileFiles', i]), message: `profileFiles.${i}: ${loaded.problems[0]!.message}` });
    } else problems.push(...loaded.problems);
    fromFiles.push(...loaded.profiles);
  });
  const catalog = ProfileCatalog.standard([...(options.profiles ?? []), ...fromFiles]);
  const planned = planScenario(scenario, {
    file,
    baseDir,
    catalog,
    locate: (path) => read.source!.locate(path),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.durationMs !== undefined ? { durationMs: options.durationMs } : {}),
  });
  problems.push(...planned.problems);
  if (!planned.plan || problems.length > 0) return { ok: false, problems: sortProblems(problems) };
  return { ok: true, plan: planned.plan, scenario };
}
