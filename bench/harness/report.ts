/** The ingest benchmark's result, as one JSON document and as tables for a terminal and for BENCHMARKS.md. */
import type { BrokerKind } from './brokers.js';
import type { ThroughputResult } from './throughput.js';
import type { LatencyResult } from './latency.js';
import type { ProfileSummary } from './cpu-profile.js';

export type Qos = 0 | 1;

export interface Settings {
  readonly messages: number;
  readonly runs: number;
  readonly warmup: number;
  readonly window: number;
  readonly seed: number;
  readonly devices: number;
  readonly latencyRate: number;
  readonly latencySeconds: number;
  readonly brokers: readonly BrokerKind[];
  readonly qos: readonly Qos[];
  readonly latency: boolean;
  readonly cpuProf: boolean;
  readonly client: 'wire' | 'mqttjs';
  /** How long after start, with no load, the idle RSS is read. */
  readonly idleWaitMs: number;
  /** Node flags given to weir and the aedes processes. */
  readonly nodeFlags: readonly string[];
}

export interface ThroughputCell {
  readonly runs: readonly ThroughputResult[];
  readonly median: { rate: number; brokerCpuMsPer1k: number; brokerCores: number; clientCores: number; otherCores: number };
  readonly peakRss: number;
}

export interface MemoryFigures {
  /** VmRSS 3 s after start, before any load: V8 still holds the young generation it grew while starting. */
  readonly startupRss: number;
  /** VmRSS at rest, `idleWaitMs` after start with no load: what a gateway waiting for devices holds. */
  readonly idleRss: number;
  /** RssAnon at the same moment: RSS less the file-backed pages of the binary and libraries. */
  readonly idleAnon: number;
  /** weir only: weir_process_resident_memory_bytes from /metrics at the same moment. */
  readonly idleMetricsRss?: number | undefined;
  /** Largest VmRSS sampled (every 100 ms) during the throughput runs. */
  readonly loadedPeakRss: number;
  /** VmHWM at the end: the kernel's own peak, which also covers the latency runs. */
  readonly hwm: number;
  /** VmRSS a few seconds after the last run. */
  readonly afterLoadRss: number;
}

export interface BenchResult {
  readonly benchmark: 'ingest';
  readonly startedAt: string;
  readonly command: string;
  readonly machine: { nproc: number; cpu: string; node: string; kernel: string; mosquitto: string; loadBefore: number; loadAfter: number };
  readonly revision: { readonly commit: string; readonly dirty: boolean };
  readonly settings: Settings;
  readonly throughput: Partial<Record<BrokerKind, Partial<Record<`qos${Qos}`, ThroughputCell>>>>;
  readonly ratios: Partial<Record<`qos${Qos}`, Partial<Record<string, number>>>>;
  readonly latency: Partial<Record<BrokerKind, Partial<Record<`qos${Qos}`, LatencyResult>>>>;
  readonly memory: Partial<Record<BrokerKind, MemoryFigures>>;
  readonly targets: readonly { readonly name: string; readonly target: string; readonly measured: string; readonly pass: boolean }[];
  /** With --cpu-prof: figures measured under the profiler are slower than the plain ones. */
  readonly profiles?: Partial<Record<BrokerKind, { readonly file: string; readonly summary: ProfileSummary }>>;
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const fixed = (n: number | undefined, d = 2) => (n !== undefined && Number.isFinite(n) ? n.toFixed(d) : '–');
const mib = (bytes: number | undefined) => (bytes !== undefined && Number.isFinite(bytes) ? (bytes / 1048576).toFixed(1) : '–');

type Table = { head: string[]; rows: string[][] };

export function tables(r: BenchResult): { title: string; table: Table }[] {
  const out: { title: string; table: Table }[] = [];
  const s = r.settings;
  const qs = s.qos;

  const tp: Table = {
    head: ['broker', ...qs.map((q) => `QoS ${q} msg/s`), ...qs.map((q) => `QoS ${q} runs`), ...qs.map((q) => `QoS ${q} broker CPU ms/1k msg`), ...qs.map((q) => `QoS ${q} cores broker/client/other`)],
    rows: [],
  };
  for (const b of s.brokers) {
    const cells = r.throughput[b];
    if (!cells) continue;
    tp.rows.push([
      b,
      ...qs.map((q) => int(cells[`qos${q}`]?.median.rate ?? Number.NaN)),
      ...qs.map((q) => (cells[`qos${q}`]?.runs ?? []).map((x) => int(x.rate)).join(' / ')),
      ...qs.map((q) => fixed(cells[`qos${q}`]?.median.brokerCpuMsPer1k, 1)),
      ...qs.map((q) => {
        const m = cells[`qos${q}`]?.median;
        return `${fixed(m?.brokerCores)} / ${fixed(m?.clientCores)} / ${fixed(m?.otherCores)}`;
      }),
    ]);
  }
  out.push({ title: `Throughput: ${int(s.messages)} messages of 100 bytes per run, window ${s.window}, ${s.client} client, median of ${s.runs} runs`, table: tp });

  const others = s.brokers.filter((b) => b !== 'weir');
  if (s.brokers.includes('weir') && others.length) {
    const ratio: Table = { head: ['ratio (msg/s)', ...qs.map((q) => `QoS ${q}`), ...qs.map((q) => `QoS ${q} CPU per msg`)], rows: [] };
    for (const b of others) {
      ratio.rows.push([
        `weir / ${b}`,
        ...qs.map((q) => fixed(r.ratios[`qos${q}`]?.[`weir/${b}`])),
        ...qs.map((q) => {
          const w = r.throughput.weir?.[`qos${q}`]?.median.brokerCpuMsPer1k;
          const o = r.throughput[b]?.[`qos${q}`]?.median.brokerCpuMsPer1k;
          return w !== undefined && o ? `${fixed(w / o)}x` : '–';
        }),
      ]);
    }
    out.push({ title: 'Ratios in the same run (throughput: higher is better for weir; CPU per message: lower is better)', table: ratio });
  }

  if (s.latency) {
    const lat: Table = { head: ['broker', 'QoS', 'sent', 'received', 'rate', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms'], rows: [] };
    for (const b of s.brokers) {
      for (const q of qs) {
        const l = r.latency[b]?.[`qos${q}`];
        if (!l) continue;
        lat.rows.push([b, String(q), int(l.sent), int(l.received), int(l.achievedRate), fixed(l.latency.p50, 3), fixed(l.latency.p90, 3), fixed(l.latency.p99, 3), fixed(l.latency.p999, 3), fixed(l.latency.max, 3)]);
      }
    }
    out.push({ title: `Latency: publish to ${s.brokers.includes('weir') ? 'republished reading (weir) or delivery (others)' : 'delivery'}, paced at ${int(s.latencyRate)} msg/s for ${s.latencySeconds} s`, table: lat });
  }

  const mem: Table = { head: ['broker', 'RSS 3 s after start MiB', `idle RSS (at rest, ${s.idleWaitMs / 1000} s) MiB`, 'idle RssAnon MiB', 'idle RSS (/metrics) MiB', 'loaded peak RSS MiB', 'VmHWM MiB', 'after load RSS MiB'], rows: [] };
  for (const b of s.brokers) {
    const m = r.memory[b];
    if (!m) continue;
    mem.rows.push([b, mib(m.startupRss), mib(m.idleRss), mib(m.idleAnon), m.idleMetricsRss !== undefined ? mib(m.idleMetricsRss) : '–', mib(m.loadedPeakRss), mib(m.hwm), mib(m.afterLoadRss)]);
  }
  out.push({ title: 'Memory (VmRSS of the broker process from /proc)', table: mem });

  if (r.targets.length) {
    out.push({
      title: 'Targets',
      table: { head: ['target', 'wanted', 'measured', 'met'], rows: r.targets.map((t) => [t.name, t.target, t.measured, t.pass ? 'yes' : 'NO']) },
    });
  }

  for (const [kind, profile] of Object.entries(r.profiles ?? {})) {
    const p = profile.summary;
    const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
    out.push({
      title: `CPU profile of ${kind} (${profile.file}): busy ${int(p.busyMs)} ms, idle ${int(p.idleMs)} ms; self time by package`,
      table: { head: ['package', 'self ms', 'share'], rows: p.byPackage.slice(0, 12).map((x) => [x.name, int(x.ms), pct(x.share)]) },
    });
    out.push({
      title: `${kind}: hottest functions by self time`,
      table: { head: ['function', 'where', 'self ms', 'share'], rows: p.selfTop.map((h) => [h.fn, h.where, int(h.ms), pct(h.share)]) },
    });
    if (p.ownInclusiveTop.length) {
      out.push({
        title: `${kind}: weir's own functions by inclusive time (with what they call)`,
        table: { head: ['function', 'where', 'total ms', 'share'], rows: p.ownInclusiveTop.map((h) => [h.fn, h.where, int(h.ms), pct(h.share)]) },
      });
    }
  }
  return out;
}

export function renderText(r: BenchResult): string {
  const lines = [
    `weir ingest benchmark, ${r.startedAt}`,
    `machine: ${r.machine.nproc} cores, ${r.machine.cpu}, node ${r.machine.node}, Linux ${r.machine.kernel}, ${r.machine.mosquitto}; load average ${r.machine.loadBefore} before, ${r.machine.loadAfter} after`,
    `command: ${r.command}; weir at ${r.revision.commit}${r.revision.dirty ? ' with uncommitted changes in gateway/, devices/ or bin/' : ''}`,
    `node flags for weir and aedes: ${r.settings.nodeFlags.join(' ') || '(none)'}; load client: ${r.settings.client}; seed ${r.settings.seed}`,
    '',
  ];
  for (const { title, table } of tables(r)) {
    lines.push(title);
    const widths = table.head.map((h, i) => Math.max(h.length, ...table.rows.map((row) => (row[i] ?? '').length)));
    const fmt = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    lines.push(`  ${fmt(table.head)}`);
    for (const row of table.rows) lines.push(`  ${fmt(row)}`);
    lines.push('');
  }
  return lines.join('\n');
}

export function renderMarkdown(r: BenchResult): string {
  const lines: string[] = [
    `Run ${r.startedAt} on ${r.machine.nproc} cores (${r.machine.cpu}), node ${r.machine.node}, Linux ${r.machine.kernel}, ${r.machine.mosquitto}; 1-min load average ${r.machine.loadBefore} before, ${r.machine.loadAfter} after.`,
    `Command: \`${r.command}\` at ${r.revision.commit}${r.revision.dirty ? ' (plus uncommitted changes)' : ''}; node flags for weir and aedes: \`${r.settings.nodeFlags.join(' ') || '(none)'}\`; load client: ${r.settings.client}; seed ${r.settings.seed}.`,
    '',
  ];
  for (const { title, table } of tables(r)) {
    lines.push(`**${title}**`, '');
    lines.push(`| ${table.head.join(' | ')} |`);
    lines.push(`| ${table.head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
    for (const row of table.rows) lines.push(`| ${row.join(' | ')} |`);
    lines.push('');
  }
  return lines.join('\n');
}
