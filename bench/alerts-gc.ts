/**
 * What the alert path leaves to V8's young-generation collector: weir at a
 * paced 5,000 readings/s (one alert per reading, the load of alerts-e2e's
 * latency step) with --trace-gc-nvp, and per scavenge its pause, the bytes
 * that survived it and were promoted, and the bytes the gateway allocated per
 * reading in between. A scavenge stops the gateway, so its pause and how often
 * it comes set the alert latency's tail; what survives sets the pause.
 *
 *   npx tsc -p tsconfig.json --outDir <build> && node <build>/bench/alerts-gc.js
 *     [--rounds 3] [--seconds 5] [--weir-bin <other build>/bench/alerts-e2e/weir-bin.js ...]
 *
 * Several --weir-bin run in turn each round (alternating builds on one
 * harness); without it, this build's gateway.
 */
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './harness/stats.js';
import { openSession } from './alerts-e2e/load.js';
import { startWeir } from './alerts-e2e/systems.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: a } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    'weir-bin': { type: 'string', multiple: true },
  },
});
const ROUNDS = Number(a.rounds);
const SECONDS = Number(a.seconds);
const RATE = 5000;
// absolute: the gateway runs in a directory of its own
const builds = (a['weir-bin'] ?? [join(here, 'alerts-e2e/weir-bin.js')]).map((bin) => resolve(bin));

interface Scavenge {
  readonly pauseMs: number;
  readonly mutatorMs: number;
  readonly allocated: number;
  readonly survived: number;
  readonly promoted: number;
}

/** One --trace-gc-nvp line of a scavenge (`gc=s`), or undefined. */
function parseScavenge(line: string): Scavenge | undefined {
  if (!line.includes(' gc=s ')) return undefined;
  const field = (name: string) => Number(new RegExp(`\\b${name}=([\\d.]+)`).exec(line)?.[1] ?? Number.NaN);
  return { pauseMs: field('pause'), mutatorMs: field('mutator'), allocated: field('allocated'), survived: field('new_space_survived'), promoted: field('promoted') };
}

async function measure(weirBin: string, dir: string): Promise<Scavenge[]> {
  let recording = false;
  const seen: Scavenge[] = [];
  const system = await startWeir(dir, weirBin, ['--trace-gc-nvp'], (line) => {
    const s = parseScavenge(line);
    if (s && recording) seen.push(s);
  });
  try {
    const session = await openSession(system, 'gc');
    await session.step(2000, 1, 1000); // warm-up: JIT, connections, a young generation grown to its working size
    await session.step(RATE, 2, 1000);
    recording = true;
    const step = await session.step(RATE, SECONDS, 1000);
    recording = false;
    if (step.received < step.sent) throw new Error(`only ${step.received} of ${step.sent} alerts arrived`);
    await session.close();
    return seen;
  } finally {
    await system.stop();
  }
}

function report(name: string, s: readonly Scavenge[]): void {
  const kb = (b: number) => `${(b / 1024).toFixed(0)} KiB`;
  // bytes allocated between two scavenges over the readings that arrived meanwhile (at RATE)
  const perReading = median(s.map((x) => x.allocated / ((x.mutatorMs * RATE) / 1000)));
  console.log(
    `  ${name}: ${s.length} scavenges in ${SECONDS} s (one every ${median(s.map((x) => x.mutatorMs)).toFixed(0)} ms); ` +
      `pause median ${median(s.map((x) => x.pauseMs)).toFixed(2)} ms, max ${Math.max(...s.map((x) => x.pauseMs)).toFixed(2)} ms; ` +
      `survived ${kb(median(s.map((x) => x.survived)))}, promoted ${kb(median(s.map((x) => x.promoted)))} (medians); ` +
      `${(perReading / 1024).toFixed(1)} KiB allocated per reading`,
  );
}

const root = mkdtempSync(join(tmpdir(), 'weir-alerts-gc-'));
try {
  console.log(`alert path at ${RATE} readings/s, ${ROUNDS} rounds of ${SECONDS} s per build; node ${process.version}`);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [i, bin] of builds.entries()) {
      const dir = join(root, `${round}-${i}`);
      mkdirSync(dir, { recursive: true });
      report(builds.length > 1 ? `round ${round}, ${bin}` : `round ${round}`, await measure(bin, dir));
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
