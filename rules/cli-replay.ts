/**
 * `weir rules replay --rules FILE --events FILE.ndjson`: recorded readings
 * through the rules on a virtual clock that follows event time; every alert
 * transition is printed as one JSON line, in event-time order. Bad lines are
 * counted and reported on stderr; they do not stop the replay.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { VirtualClock } from '../gateway/core/clock.js';
import { formatProblem } from '../gateway/core/yaml-source.js';
import type { AlertRecord, ReadingRecord } from '../gateway/core/records.js';
import { createRuleEngine, type RuleEngine } from './engine.js';
import { loadRuleFiles } from './load.js';
import type { CliStreams } from './cli-test.js';

export interface ReplayOptions {
  readonly rulesFiles: readonly string[];
  readonly eventsFile: string;
  readonly out: CliStreams;
}

const SHOWN_BAD_LINES = 20;

export async function runRulesReplay({ rulesFiles, eventsFile, out }: ReplayOptions): Promise<number> {
  const loaded = loadRuleFiles(rulesFiles);
  if (!loaded.ok) {
    for (const p of loaded.problems) out.stderr.write(`${formatProblem(p)}\n`);
    return 2;
  }
  const alerts: AlertRecord[] = [];
  let derived = 0;
  let clock: VirtualClock | undefined;
  let engine: RuleEngine | undefined;
  let seq = 0;
  let good = 0;
  let bad = 0;
  let lineNo = 0;
  try {
    const lines = createInterface({ input: createReadStream(eventsFile, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      const parsed = parseReadingLine(line, lineNo);
      if (!parsed.ok) {
        if (++bad <= SHOWN_BAD_LINES) out.stderr.write(`${eventsFile}:${lineNo}: ${parsed.reason}\n`);
        continue;
      }
      const r = parsed.reading;
      if (!clock || !engine) {
        clock = new VirtualClock(r.ts);
        engine = createRuleEngine({
          rules: loaded.rules,
          clock,
          nextId: () => `replay-${++seq}`,
          emit: (rec) => (rec.kind === 'alert' ? alerts.push(rec) : derived++),
          onError: (e) => out.stderr.write(`rule ${e.rule}${e.key === undefined ? '' : ` key ${e.key}`}: ${describe(e.error)}\n`),
        });
      }
      clock.advanceTo(r.ts); // never backwards: an older reading is late, as it would be live
      engine.process(r);
      good++;
    }
  } catch (e) {
    out.stderr.write(`${eventsFile}: cannot read: ${describe(e)}\n`);
    return 2;
  }
  if (clock && engine) {
    // let windows that ended with the data pass their allowed lateness
    const lateness = Math.max(0, ...loaded.rules.map((r) => r.latenessMs));
    clock.advanceBy(lateness);
    engine.close();
  }
  alerts.sort((a, b) => a.ts - b.ts); // stable: ties keep emission order
  for (const a of alerts) {
    const line = {
      ts: new Date(a.ts).toISOString(),
      rule: a.rule,
      key: a.key,
      device: a.device ?? null,
      state: a.state,
      severity: a.severity,
      value: a.value ?? null,
      message: a.message,
    };
    out.stdout.write(`${JSON.stringify(line)}\n`);
  }
  if (bad > SHOWN_BAD_LINES) out.stderr.write(`... and ${bad - SHOWN_BAD_LINES} more bad lines\n`);
  out.stderr.write(`replayed ${good} readings, ${bad} bad lines skipped; ${alerts.length} alert transitions, ${derived} derived readings\n`);
  return 0;
}

export type ParsedLine = { readonly ok: true; readonly reading: ReadingRecord } | { readonly ok: false; readonly reason: string };

/** One NDJSON line: `{"ts": epoch ms or ISO 8601, "device", "metric", "value", "tags"?}`. */
export function parseReadingLine(line: string, lineNo: number): ParsedLine {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch (e) {
    return { ok: false, reason: `not JSON: ${describe(e)}` };
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return { ok: false, reason: 'not a JSON object' };
  const { ts, device, metric, value, tags } = o as Record<string, unknown>;
  const time = typeof ts === 'number' ? ts : typeof ts === 'string' ? Date.parse(ts) : Number.NaN;
  if (!Number.isFinite(time)) return { ok: false, reason: '"ts" must be epoch milliseconds or an ISO 8601 time' };
  if (typeof device !== 'string' || device === '') return { ok: false, reason: '"device" must be a non-empty string' };
  if (typeof metric !== 'string' || metric === '') return { ok: false, reason: '"metric" must be a non-empty string' };
  if (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'string') {
    return { ok: false, reason: '"value" must be a number, boolean or string' };
  }
  if (tags !== undefined && (tags === null || typeof tags !== 'object' || Object.values(tags).some((v) => typeof v !== 'string'))) {
    return { ok: false, reason: '"tags" must be an object of strings' };
  }
  const t = Math.round(time);
  return {
    ok: true,
    reading: {
      v: 1, kind: 'reading', id: `line-${lineNo}`, device, metric, value, ts: t, receivedAt: t, source: 'replay',
      tags: (tags as Record<string, string> | undefined) ?? {}, flags: ['replay'],
    },
  };
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
