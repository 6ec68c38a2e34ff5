/** The store-and-forward benchmark's result, as JSON and as the Markdown tables for BENCHMARKS.md. */
import type { LoadResult } from './load.js';

export interface ThroughputRow {
  readonly label: string;
  readonly sinks: string;
  readonly fsync: 'always' | 'interval' | '-';
  /** The sink's delivery.drainRate: records/s it may send, live or backlog. */
  readonly drainRate: string;
  readonly ingest: LoadResult;
  /** The server process's CPU over the measured window, in cores. */
  readonly cores: number;
  /** Group commit: records appended per fdatasync during the window. */
  readonly recordsPerFsync: number | undefined;
  /** Records per second each sink acknowledged during the measured window. */
  readonly upstreamDuring: number | undefined;
  /** Per sink: records acknowledged from the start of the window until the buffer was empty, per second. */
  readonly upstreamOverall: number | undefined;
  /** How long after the window the last record reached the upstream(s). */
  readonly drainedAfterMs: number | undefined;
  /** What the upstream servers hold, read back from them. */
  readonly upstream: string | undefined;
}

export interface OutageRow {
  readonly sink: string;
  readonly drainRate: string;
  readonly ingestRate: number;
  /** From the halt to the server being back (its restart included). */
  readonly outageS: number;
  readonly serverRestartS: number;
  readonly backlog: number;
  /** From the server being back to weir's first acknowledged delivery (reconnect and backoff). */
  readonly firstDeliveryAfterUpS: number | undefined;
  /** From the first delivery to the backlog being under LAG_CAUGHT_UP. */
  readonly drainS: number | undefined;
  /** Records/s the sink acknowledged while draining (backlog and live ingest together). */
  readonly grossRate: number | undefined;
  /** Backlog reduction per second (gross minus what kept arriving). */
  readonly netRate: number | undefined;
  readonly timesIngest: number | undefined;
  readonly caughtUp: boolean;
}

export interface Result {
  readonly benchmark: 'forward-e2e';
  readonly startedAt: string;
  readonly command: string;
  readonly machine: { nproc: number; cpu: string; node: string; kernel: string; loadBefore: number; loadAfter: number };
  readonly settings: {
    nodeFlags: string;
    seconds: number;
    rounds: number;
    window: number;
    outageS: number;
    ingestRate: number;
    devices: number;
    seed: number;
    lagCaughtUp: number;
    drainTargetX: number;
  };
  /** Per configuration, the round with the median ingest rate. */
  readonly throughput: readonly ThroughputRow[];
  readonly rounds: readonly (readonly ThroughputRow[])[];
  readonly outages: readonly OutageRow[];
}

const int = (n: number | undefined) => (n !== undefined && Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const fixed = (n: number | undefined, d = 1) => (n !== undefined && Number.isFinite(n) ? n.toFixed(d) : '–');

function table(head: string[], rows: string[][], right: boolean[]): string {
  const sep = head.map((_, i) => (right[i] ? '---:' : '---'));
  return [head, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function renderMarkdown(r: Result): string {
  const s = r.settings;
  const aedes = r.throughput.find((t) => t.label === 'bare aedes')?.ingest.rate;
  const tp = table(
    ['server', 'sinks', 'buffer fsync', 'drainRate cap', 'ingest PUBACK/s', 'rounds', 'vs bare aedes', 'server CPU (cores)', 'records / fsync', 'upstream rec/s during ingest', 'upstream rec/s to empty buffer', 'buffer empty after (s)', 'upstream holds'],
    r.throughput.map((t, i) => [
      t.label,
      t.sinks,
      t.fsync,
      t.drainRate,
      int(t.ingest.rate),
      r.rounds.map((round) => int(round[i]?.ingest.rate)).join(' / '),
      aedes ? `${fixed(t.ingest.rate / aedes, 2)}x` : '–',
      fixed(t.cores, 2),
      int(t.recordsPerFsync),
      int(t.upstreamDuring),
      int(t.upstreamOverall),
      t.drainedAfterMs === undefined ? '–' : fixed(t.drainedAfterMs / 1000, 1),
      t.upstream ?? '–',
    ]),
    [false, false, false, true, true, true, true, true, true, true, true, true, false],
  );
  const out = table(
    ['sink', 'drainRate cap', 'ingest rec/s', 'outage (s)', 'server restart (s)', 'backlog peak', 'first delivery after server up (s)', 'drain time (s)', 'drain rec/s (gross)', 'backlog shrinks rec/s (net)', 'gross vs ingest'],
    r.outages.map((o) => [
      o.sink,
      o.drainRate,
      int(o.ingestRate),
      fixed(o.outageS),
      fixed(o.serverRestartS),
      int(o.backlog),
      fixed(o.firstDeliveryAfterUpS),
      o.caughtUp ? fixed(o.drainS) : `> ${fixed(o.drainS)} (not caught up)`,
      int(o.grossRate),
      int(o.netRate),
      o.timesIngest === undefined ? '–' : `${fixed(o.timesIngest)}x ${o.timesIngest >= s.drainTargetX ? '(≥ 10x: met)' : '(< 10x: missed)'}`,
    ]),
    [false, false, true, true, true, true, true, true, true, true, false],
  );
  const m = r.machine;
  return [
    `Run ${r.startedAt} on ${m.nproc} cores (${m.cpu}), Node ${m.node}, Linux ${m.kernel}; load average ${m.loadBefore.toFixed(1)} before, ${m.loadAfter.toFixed(1)} after.`,
    `Command: \`${r.command}\`; weir runs as \`node ${s.nodeFlags} bin/weir.js start\`. One QoS 1 publisher (raw-socket client), ${s.window} publishes in flight, ~100-byte JSON telemetry from ${s.devices} devices (seed ${s.seed}), one reading per message;`,
    `${s.seconds} s measured per configuration after a 1 s warm-up${s.rounds > 1 ? `, ${s.rounds} rounds interleaved, the round with the median ingest rate shown` : ''}.`,
    '',
    '**Throughput** (weir republish off, so weir and aedes both only acknowledge; upstream rates are per sink):',
    '',
    tp,
    '',
    `**Drain after an outage**: ${int(s.ingestRate)} readings/s paced ingest throughout; the upstream server stopped for ${s.outageS} s (plus its own restart time), then started again; drain time ends when the sink's lag is under ${s.lagCaughtUp} records. Sink delivery settings are the defaults except \`backoffMax: 5s\`.`,
    '',
    out,
    '',
  ].join('\n');
}
