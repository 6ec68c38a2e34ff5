/** `weir check`: validate weir.yaml (and everything it references) without starting. */
import { loadConfigFile } from '../config/load.js';
import { formatProblem } from '../core/yaml-source.js';

export function runCheck(file: string, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  const result = loadConfigFile(file);
  if (!result.ok) {
    for (const p of result.problems) err.write(`${formatProblem(p)}\n`);
    err.write(`${file}: ${result.problems.length} problem(s)\n`);
    return 1;
  }
  out.write(`${file}: ok (${result.loaded.profiles.length} device profile(s))\n`);
  return 0;
}
