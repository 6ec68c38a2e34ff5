/**
 * Device profiles, read from the same YAML files the gateway reads: the
 * built-in ones, the library under devices/profiles/library, and files a
 * scenario names. The simulator only reads them; what a profile lacks for
 * simulation (signals, variation) lives in the scenario.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import { BUILTIN_PROFILES } from '../../devices/profiles/builtin.js';
import { DeviceProfile } from '../../devices/profiles/schema.js';
import { readYamlFile, type Problem, type YamlSource } from '../../gateway/core/yaml-source.js';
import { applyDefaultsAndValidate } from '../../gateway/core/validate.js';

const ProfileList = Type.Array(DeviceProfile);

/** A file holds one profile or a list, as in the gateway's `profileFiles:`. */
export function loadProfileFile(file: string): { profiles: DeviceProfile[]; problems: Problem[] } {
  const read = readYamlFile(file);
  if (!read.source) return { profiles: [], problems: read.problems };
  const single = !Array.isArray(read.source.data);
  const source: YamlSource = {
    file,
    data: single ? [read.source.data] : read.source.data,
    // a single profile is validated as a one-item list; drop the index when locating
    locate: (path, options) => read.source!.locate(single ? path.slice(1) : path, options),
  };
  const validated = applyDefaultsAndValidate(ProfileList, source);
  return { profiles: validated.value ?? [], problems: [...read.problems, ...validated.problems] };
}

/** The library directory, from the sources or from dist/ (tsc does not copy YAML). */
export function libraryDir(): string | undefined {
  for (const up of ['../..', '../../..']) {
    const dir = resolve(import.meta.dirname, up, 'devices/profiles/library');
    if (existsSync(dir)) return dir;
  }
  // the Debian package installs the library here (its bundle has no source tree)
  return existsSync('/usr/share/weir/profiles') ? '/usr/share/weir/profiles' : undefined;
}

export function libraryProfiles(): { profiles: DeviceProfile[]; problems: Problem[] } {
  const dir = libraryDir();
  if (!dir) return { profiles: [], problems: [] };
  const profiles: DeviceProfile[] = [];
  const problems: Problem[] = [];
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    const loaded = loadProfileFile(join(dir, name));
    profiles.push(...loaded.profiles);
    problems.push(...loaded.problems);
  }
  return { profiles, problems };
}

/** Scenario files first, then the library, then the built-ins: the first of a name wins, as in the gateway. */
export class ProfileCatalog {
  readonly #byName = new Map<string, DeviceProfile>();

  constructor(profiles: readonly DeviceProfile[]) {
    for (const p of profiles) if (!this.#byName.has(p.name)) this.#byName.set(p.name, p);
  }

  static standard(extra: readonly DeviceProfile[] = []): ProfileCatalog {
    return new ProfileCatalog([...extra, ...libraryProfiles().profiles, ...BUILTIN_PROFILES]);
  }

  get(name: string): DeviceProfile | undefined {
    return this.#byName.get(name);
  }

  names(): string[] {
    return [...this.#byName.keys()];
  }
}
