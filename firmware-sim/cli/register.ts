/**
 * The `weir sim` commands for the gateway's commander program, in one call:
 *   registerSimCommand(program, exit)
 * Modules load on demand, as the gateway's other commands do, so `weir start`
 * never carries the simulator in memory.
 */
import type { Command } from 'commander';
import type { SimCommandOptions, SimIo } from './run-sim.js';
import type { RecordCommandOptions, ReplayCommandOptions } from './record-replay.js';

const io = (): SimIo => ({ stdout: process.stdout, stderr: process.stderr });

export function registerSimCommand(program: Command, exit: (code: number) => void): Command {
  // `sim record --scenario` must reach record, not sim's own --scenario; commander parses a
  // subcommand's options apart only when every parent up to the root has positional options
  program.enablePositionalOptions();
  const sim = program
    .command('sim')
    .description('simulate a device fleet (a scenario file, or the quick form --devices N --rate R/s) against a broker')
    .enablePositionalOptions()
    .option('-s, --scenario <file>', 'scenario YAML (fleet, timeline, duration)')
    .option('--mqtt <url>', 'broker URL; overrides the scenario (mqtt://127.0.0.1:1883)')
    .option('--serial <path>', 'port for the serial device instead of a new pty pair')
    .option('--seed <n>', 'seed for every random choice; the same seed sends the same values')
    .option('--duration <d>', 'run time (30s, 5m); default the scenario\'s, else until Ctrl-C')
    .option('--devices <n>', 'quick form: number of devices')
    .option('--rate <rate>', 'quick form: messages per second for the fleet (100/s) or per device (1/s/device)')
    .option('--profile <name>', 'quick form: device profile (default weir-json)')
    .option('--qos <0|1|2>', 'MQTT QoS; overrides the scenario')
    .option('--connections <n>', 'quick form: share this many MQTT connections among the devices')
    .option('--watch <topic>', 'measure publish-to-receive latency on this topic (weir/readings/+)')
    .option('--json', 'print the summary as one JSON object, no live view')
    .action(async (o: SimCommandOptions) => exit(await (await import('./run-sim.js')).runSim(o, io())));

  sim
    .command('record')
    .description('write NDJSON reading lines: a scenario\'s readings (offline) or a gateway\'s republished ones (--mqtt)')
    .requiredOption('-o, --out <file>', 'NDJSON file to write')
    .option('-s, --scenario <file>', 'generate from this scenario, no broker needed')
    .option('--mqtt <url>', 'record what the gateway republishes on this broker')
    .option('--topic <filter>', 'with --mqtt: topic filter (default weir/readings/#)')
    .option('--seed <n>', 'with --scenario: seed')
    .option('--start <iso>', 'with --scenario: where device clocks start (default the scenario\'s, else 2024-01-01T00:00:00Z)')
    .option('--duration <d>', 'how long to generate or listen')
    .option('--count <n>', 'with --mqtt: stop after this many readings')
    .action(async (o: RecordCommandOptions) => exit(await (await import('./record-replay.js')).runSimRecord(o, io())));

  sim
    .command('replay')
    .description('publish NDJSON reading lines to a broker as the devices would (weir/<device>/telemetry with ts)')
    .requiredOption('-e, --events <file>', 'NDJSON reading lines (the format of weir rules replay)')
    .requiredOption('--mqtt <url>', 'broker URL')
    .option('--speed <factor>', '1 = as recorded, 10 = ten times faster, max = no pacing (default max)')
    .option('--qos <0|1|2>', 'MQTT QoS (default 1)')
    .option('--json', 'print the result as JSON')
    .action(async (o: ReplayCommandOptions) => exit(await (await import('./record-replay.js')).runSimReplay(o, io())));

  return sim;
}
