/** The end-of-run summary, as text for people and as one JSON object for --json. */
import type { StatsSnapshot } from '../run/stats.js';

export interface RunInfo {
  readonly scenario: string;
  readonly seed: number | string;
  readonly durationMs: number | undefined;
  readonly serialPaths: Readonly<Record<string, string>>;
}

export function summaryText(info: RunInfo, s: StatsSnapshot): string {
  const m = s.messages;
  const lines = [
    `weir sim ${info.scenario} (seed ${info.seed}): ${s.devices} devices for ${seconds(s.elapsedMs)}`,
    `  messages  sent ${m.sent}, acknowledged ${m.acknowledged}, failed ${m.failed}${m.pending ? `, unacknowledged at stop ${m.pending}` : ''}${m.suppressed ? `, silenced ${m.suppressed}` : ''}`,
    `  readings  sent ${s.readings.sent}, acknowledged ${s.readings.acknowledged} (what the gateway should count)`,
    `  rate      ${s.rate.achieved} msg/s acknowledged${s.rate.target !== undefined ? ` (target ${round(s.rate.target)} msg/s${s.rate.achieved < s.rate.target * 0.95 ? ', NOT reached' : ''})` : ''}`,
    `  links     ${s.links.connected}/${s.links.total} connected at the end of the run, ${s.links.disconnects} disconnects, ${s.links.reconnects} reconnects`,
    `  lag       scheduler p99 ${s.lagMs.p99} ms, max ${s.lagMs.max} ms`,
  ];
  if (s.latencyMs) lines.push(`  latency   publish to receive p50 ${s.latencyMs.p50} ms, p90 ${s.latencyMs.p90} ms, p99 ${s.latencyMs.p99} ms, max ${s.latencyMs.max} ms (${s.latencyMs.count} received)`);
  const faults = Object.entries(s.faults);
  if (faults.length > 0) lines.push(`  faults    ${faults.map(([k, f]) => `${k} ${f.events}x (${f.messages} messages)`).join(', ')}`);
  const errors = Object.entries(s.errors);
  if (errors.length > 0) lines.push(`  errors    ${errors.map(([k, n]) => `${k} ${n}`).join(', ')}; last: ${s.lastError}`);
  return `${lines.join('\n')}\n`;
}

export function summaryJson(info: RunInfo, s: StatsSnapshot): string {
  return `${JSON.stringify({ scenario: info.scenario, seed: info.seed, durationMs: info.durationMs ?? null, serialPaths: info.serialPaths, ...s })}\n`;
}

export function seconds(ms: number): string {
  return ms >= 60_000 ? `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s` : `${(ms / 1000).toFixed(1)}s`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
