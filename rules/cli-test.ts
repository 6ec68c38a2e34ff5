/**
 * `weir rules test FILE...`: runs the `tests:` of rule files on a virtual
 * clock and compares the alert transitions (and, when asked, derived
 * readings) with what the test expects. Exit code 0 when all pass, 1 when any
 * fails, 2 when the files do not load.
 */
import { VirtualClock } from '../gateway/core/clock.js';
import { formatProblem } from '../gateway/core/yaml-source.js';
import { parseDuration } from '../gateway/core/units.js';
import type { AlertRecord, ReadingRecord } from '../gateway/core/records.js';
import { createRuleEngine, type RuleEngine } from './engine.js';
import { loadRuleFiles, type LoadedRuleFile } from './load.js';
import type { RuleTestCase } from './schema.js';
import type { CompiledRule } from './types.js';

export interface CliStreams {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

export interface TestRun {
  readonly start: number;
  readonly alerts: readonly AlertRecord[];
  readonly readings: readonly ReadingRecord[];
}

export async function runRulesTest(files: readonly string[], out: CliStreams): Promise<number> {
  const loaded = loadRuleFiles(files);
  if (!loaded.ok) {
    for (const p of loaded.problems) out.stderr.write(`${formatProblem(p)}\n`);
    return 2;
  }
  let passed = 0;
  let failed = 0;
  for (const file of loaded.files) {
    out.stdout.write(`${file.file}\n`);
    if (file.tests.length === 0) out.stdout.write('  (no tests)\n');
    for (const t of file.tests) {
      const run = runTestCase(file, t);
      const diff = compare(t, run);
      if (diff.length === 0) {
        passed++;
        out.stdout.write(`  ✓ ${t.name}\n`);
      } else {
        failed++;
        out.stdout.write(`  ✗ ${t.name}\n${diff.map((l) => `      ${l}\n`).join('')}`);
      }
    }
  }
  out.stdout.write(`\n${passed + failed} tests: ${passed} passed, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}

/** Runs one test case: readings in arrival order on a virtual clock, an optional restart, then `until`. */
export function runTestCase(file: LoadedRuleFile, t: RuleTestCase): TestRun {
  const start = Date.parse(t.start);
  const rules: readonly CompiledRule[] = t.rules ? file.rules.filter((r) => t.rules!.includes(r.id)) : file.rules;
  const clock = new VirtualClock(start);
  const alerts: AlertRecord[] = [];
  const readings: ReadingRecord[] = [];
  let seq = 0;
  const make = (): RuleEngine =>
    createRuleEngine({
      rules,
      clock,
      nextId: () => `test-${++seq}`,
      emit: (r) => (r.kind === 'alert' ? alerts.push(r) : readings.push(r)),
    });
  let engine = make();
  const down = t.restart && { at: start + parseDuration(t.restart.at), back: start + parseDuration(t.restart.at) + parseDuration(t.restart.downFor) };
  let restart = down;
  const restartIfDue = (until: number): void => {
    if (!restart || restart.at > until) return;
    clock.advanceTo(restart.at);
    const saved = engine.snapshot();
    engine.close(); // the gateway is down: no timers fire, readings are lost
    clock.advanceTo(restart.back);
    engine = make();
    engine.restore(saved);
    restart = undefined;
  };
  const input = t.readings
    .map((r, i) => ({ r, i, at: start + parseDuration(r.at) }))
    .sort((a, b) => a.at - b.at || a.i - b.i);
  for (const { r, i, at } of input) {
    restartIfDue(at);
    if (down && at >= down.at && at < down.back) continue; // sent while the gateway was down
    clock.advanceTo(at);
    engine.process({
      v: 1,
      kind: 'reading',
      id: `in-${i}`,
      device: r.device,
      metric: r.metric,
      value: r.value,
      ts: r.eventAt === undefined ? at : start + parseDuration(r.eventAt),
      receivedAt: at,
      source: 'test',
      tags: r.tags ?? {},
    });
  }
  const end = Math.max(clock.now(), t.until === undefined ? -Infinity : start + parseDuration(t.until));
  restartIfDue(end);
  clock.advanceTo(end);
  engine.close();
  return { start, alerts, readings };
}

/** Readable differences; empty when the run matches. */
export function compare(t: RuleTestCase, run: TestRun): string[] {
  const lines: string[] = [];
  const alertDiff = align(
    t.expect,
    run.alerts,
    (e, a) => {
      const value = e.value === undefined || sameValue(e.value, a.value);
      return (
        a.ts === run.start + parseDuration(e.at) &&
        a.state === e.state &&
        (e.rule === undefined || e.rule === a.rule) &&
        (e.key === undefined || e.key === a.key) &&
        (e.device === undefined || e.device === a.device) &&
        (e.severity === undefined || e.severity === a.severity) &&
        (e.message === undefined || e.message === a.message) &&
        value
      );
    },
    (e) => `${e.at} ${e.state}${opt(e.rule)}${opt(e.key ?? e.device)}${opt(e.severity)}${e.value === undefined ? '' : ` value=${String(e.value)}`}${e.message === undefined ? '' : ` "${e.message}"`}`,
    (a) => `${offset(a.ts - run.start)} ${a.state} ${a.rule} ${a.key} ${a.severity}${a.value === undefined ? '' : ` value=${String(a.value)}`} "${a.message}"`,
  );
  if (alertDiff.some((l) => l.startsWith('-') || l.startsWith('+'))) lines.push('alerts (- expected, not raised; + raised, not expected):', ...alertDiff);
  if (t.expectReadings) {
    const readingDiff = align(
      t.expectReadings,
      run.readings,
      (e, r) => r.ts === run.start + parseDuration(e.at) && r.metric === e.metric && (e.device === undefined || e.device === r.device) && sameValue(e.value, r.value),
      (e) => `${e.at} ${e.device ?? '*'} ${e.metric}=${e.value}`,
      (r) => `${offset(r.ts - run.start)} ${r.device} ${r.metric}=${String(r.value)}`,
    );
    if (readingDiff.some((l) => l.startsWith('-') || l.startsWith('+'))) lines.push('derived readings (- expected, not derived; + derived, not expected):', ...readingDiff);
  }
  return lines;
}

/** In-order alignment: `  ` matched, `- ` expected but missing, `+ ` present but not expected. */
function align<E, A>(expected: readonly E[], actual: readonly A[], same: (e: E, a: A) => boolean, showE: (e: E) => string, showA: (a: A) => string): string[] {
  const out: string[] = [];
  let j = 0;
  for (const e of expected) {
    let k = j;
    while (k < actual.length && !same(e, actual[k]!)) k++;
    if (k === actual.length) {
      out.push(`- ${showE(e)}`);
      continue;
    }
    for (; j < k; j++) out.push(`+ ${showA(actual[j]!)}`);
    out.push(`  ${showA(actual[j]!)}`);
    j++;
  }
  for (; j < actual.length; j++) out.push(`+ ${showA(actual[j]!)}`);
  return out;
}

function sameValue(e: number | boolean | string, a: number | boolean | string | undefined): boolean {
  if (typeof e === 'number' && typeof a === 'number') return Math.abs(e - a) <= 1e-9 * Math.max(1, Math.abs(e), Math.abs(a));
  return e === a;
}

function opt(s: string | undefined): string {
  return s === undefined ? '' : ` ${s}`;
}

/** Milliseconds the way rule files write durations: `90s`, `5m`, `1500ms`. */
export function offset(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const a = Math.abs(ms);
  if (a === 0) return '0s';
  if (a % 3_600_000 === 0) return `${sign}${a / 3_600_000}h`;
  if (a % 60_000 === 0) return `${sign}${a / 60_000}m`;
  if (a % 1000 === 0) return `${sign}${a / 1000}s`;
  return `${sign}${a}ms`;
}
