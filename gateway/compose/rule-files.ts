/** Rule file paths and globs from weir.yaml, expanded against the config file's directory. */
import { globSync, isDynamicPattern } from 'tinyglobby';
import { loadRuleFiles, type LoadResult } from '../../rules/index.js';

export function expandRuleFiles(patterns: readonly string[], baseDir: string): string[] {
  const files = new Set<string>();
  for (const p of patterns) for (const f of globSync([p], { cwd: baseDir, absolute: true }).sort()) files.add(f);
  return [...files];
}

export function loadConfiguredRules(patterns: readonly string[], baseDir: string): LoadResult {
  const files = expandRuleFiles(patterns, baseDir);
  // a glob may match nothing (an empty rules/ directory); a plain path must exist
  const missing = patterns.filter((p) => !isDynamicPattern(p) && globSync([p], { cwd: baseDir }).length === 0);
  if (missing.length > 0) {
    return { ok: false, problems: missing.map((p) => ({ file: p, line: 1, col: 1, message: 'rules.files: no file matches this path or glob' })) };
  }
  return loadRuleFiles(files);
}
