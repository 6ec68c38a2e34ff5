/**
 * Device profiles kept in their own YAML files (`profileFiles:` in weir.yaml),
 * so one model file serves the gateway and firmware-sim alike. A file holds one
 * profile or a list of them.
 */
import { resolve } from 'node:path';
import { isDynamicPattern } from 'tinyglobby';
import { Type } from '@sinclair/typebox';
import { DeviceProfile } from '../../devices/profiles/schema.js';
import { readYamlFile, type Problem, type YamlSource } from '../core/yaml-source.js';
import { interpolateEnv, type InterpolationProblem } from './interpolate.js';
import { applyDefaultsAndValidate } from '../core/validate.js';

export interface ProfileOrigin {
  readonly source: YamlSource;
  readonly path: readonly (string | number)[];
}

const ProfileList = Type.Array(DeviceProfile);

export function loadProfileFiles(
  patterns: readonly string[],
  baseDir: string,
  env: NodeJS.ProcessEnv,
  glob: (patterns: string[], options: { cwd: string; absolute: boolean }) => string[],
): { profiles: DeviceProfile[]; problems: Problem[]; origins: ProfileOrigin[] } {
  const profiles: DeviceProfile[] = [];
  const problems: Problem[] = [];
  const origins: ProfileOrigin[] = [];
  for (const pattern of patterns) {
    const files = glob([pattern], { cwd: baseDir, absolute: true }).sort();
    // a glob may match nothing (an empty profiles/ directory); a plain path must exist
    if (files.length === 0 && !isDynamicPattern(pattern)) {
      problems.push({ file: resolve(baseDir, pattern), line: 1, col: 1, message: 'profileFiles: no file matches this path or glob' });
      continue;
    }
    for (const file of files) {
      const read = readYamlFile(file);
      problems.push(...read.problems);
      if (!read.source) continue;
      const asList = Array.isArray(read.source.data) ? read.source.data : [read.source.data];
      const envProblems: InterpolationProblem[] = [];
      const data = interpolateEnv(asList, env, envProblems);
      const wrapsSingle = !Array.isArray(read.source.data);
      // a single-profile file is validated as a one-item list; strip the index from locations
      const source: YamlSource = {
        file,
        data,
        locate: (path, options) => read.source!.locate(wrapsSingle ? path.slice(1) : path, options),
      };
      for (const p of envProblems) problems.push({ file, ...source.locate(p.path), message: p.message });
      const validated = applyDefaultsAndValidate(ProfileList, source);
      problems.push(...validated.problems);
      validated.value?.forEach((profile, i) => {
        profiles.push(profile);
        origins.push({ source, path: [i] });
      });
    }
  }
  return { profiles, problems, origins };
}
