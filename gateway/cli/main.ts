/** The `weir` command line. Each command lives in its own file; this one only declares them. */
import { existsSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { WEIR_VERSION } from '../version.js';
import { parsePort } from './overrides.js';
import { registerSimCommand } from '../../firmware-sim/cli/register.js';

// Commands load their modules on demand: `weir start` on a 1 GB board should not
// carry the code of every other command in memory.

const port = (text: string) => {
  try {
    return parsePort(text);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

/** Where an installed gateway keeps its config: $WEIR_CONFIG, else the package's /etc/weir/weir.yaml. */
function defaultConfigFile(): string | undefined {
  if (process.env.WEIR_CONFIG) return process.env.WEIR_CONFIG;
  return existsSync('/etc/weir/weir.yaml') ? '/etc/weir/weir.yaml' : undefined;
}

export function buildCli(exit: (code: number) => void): Command {
  const program = new Command('weir')
    .description('IoT edge gateway: embedded MQTT broker, device ingestion, rules, store-and-forward')
    .version(WEIR_VERSION, '-V, --version');

  program
    .command('start')
    .description('run the gateway (the embedded defaults when no --config is given)')
    .option('-c, --config <file>', 'weir.yaml to load')
    .option('--mqtt-port <port>', 'override broker.listeners.tcp.port', port)
    .option('--http-port <port>', 'override http.port', port)
    .option('--data-dir <dir>', 'override gateway.dataDir')
    .action(async (o: { config?: string; mqttPort?: number; httpPort?: number; dataDir?: string }) => exit(await (await import('./start.js')).runStart(o)));

  program
    .command('check')
    .description('validate a config file and everything it references; exit 1 with the list of problems')
    .option('-c, --config <file>', 'weir.yaml to check (default: $WEIR_CONFIG, else /etc/weir/weir.yaml)')
    .action(async (o: { config?: string }) => {
      const file = o.config ?? defaultConfigFile();
      if (!file) {
        process.stderr.write('weir check: no --config given, $WEIR_CONFIG unset and no /etc/weir/weir.yaml\n');
        return exit(1);
      }
      exit((await import('./check.js')).runCheck(file));
    });

  program
    .command('schema')
    .description('print the JSON Schema of weir.yaml (for editor validation and completion)')
    .action(async () => {
      const { configJsonSchema } = await import('./schema.js');
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
      exit(0);
    });

  const users = program.command('users').description('manage the MQTT users file');
  users
    .command('add <username>')
    .description('add a user or change its password (prompts, or reads the first line of stdin)')
    .requiredOption('-f, --file <file>', 'users file (broker.auth.usersFile)')
    .option('--password <password>', 'the password (visible to other local users in the process list; prefer stdin)')
    .action(async (username: string, o: { file: string; password?: string }) => exit(await (await import('./users.js')).runUsersAdd(o.file, username, o)));
  users
    .command('remove <username>')
    .description('remove a user')
    .requiredOption('-f, --file <file>', 'users file')
    .action(async (username: string, o: { file: string }) => exit(await (await import('./users.js')).runUsersRemove(o.file, username)));

  program
    .command('doctor')
    .description('report what this gateway can reach on this board; exit 1 if any check fails')
    .option('-c, --config <file>', 'weir.yaml to check against (default: $WEIR_CONFIG, else /etc/weir/weir.yaml, else the embedded defaults)')
    .option('--json', 'machine-readable output')
    .action(async (o: { config?: string; json?: boolean }) => {
      const config = o.config ?? defaultConfigFile();
      exit(await (await import('./doctor.js')).runDoctorCommand({ ...o, ...(config ? { config } : {}) }));
    });

  const rules = program.command('rules').description('test and replay alert rules');
  rules
    .command('test <files...>')
    .description('run the test cases carried in rule files on a virtual clock; exit 1 on a mismatch')
    .action(async (files: string[]) => exit(await (await import('../../rules/index.js')).runRulesTest(files, { stdout: process.stdout, stderr: process.stderr })));
  rules
    .command('replay')
    .description('run NDJSON readings through rules on event time; print each alert transition as a JSON line')
    .requiredOption('--rules <files...>', 'rule files')
    .requiredOption('--events <file>', 'NDJSON readings: {"ts","device","metric","value","tags"?} per line')
    .action(async (o: { rules: string[]; events: string }) =>
      exit(await (await import('../../rules/index.js')).runRulesReplay({ rulesFiles: o.rules, eventsFile: o.events, out: { stdout: process.stdout, stderr: process.stderr } })),
    );

  const buffer = program.command('buffer').description('look into the store-and-forward buffer (running or stopped gateway)');
  buffer
    .command('stats')
    .description('records and bytes buffered, per-sink lag, drops, recoveries')
    .option('--data-dir <dir>', 'the gateway data directory', './data')
    .action(async (o: { dataDir: string }) => exit(await (await import('../buffer/index.js')).runBufferStats(o.dataDir)));
  buffer
    .command('inspect')
    .description('what is queued, for which sink')
    .option('--data-dir <dir>', 'the gateway data directory', './data')
    .option('--sink <name>', 'only what this sink has not had')
    .option('--limit <n>', 'at most this many records', (v) => Number.parseInt(v, 10), 20)
    .action(async (o: { dataDir: string; sink?: string; limit: number }) =>
      exit(await (await import('../buffer/index.js')).runBufferInspect(o.dataDir, { ...(o.sink ? { sink: o.sink } : {}), limit: o.limit })),
    );

  // firmware-sim is a separate program sharing only device models; this registers its command lazily
  registerSimCommand(program, exit);

  return program;
}
