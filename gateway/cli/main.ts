/** The `weir` command line. Each command lives in its own file; this one only declares them. */
import { Command, InvalidArgumentError } from 'commander';
import { WEIR_VERSION } from '../version.js';
import { parsePort } from './overrides.js';

// Commands load their modules on demand: `weir start` on a 1 GB board should not
// carry the code of every other command in memory.

const port = (text: string) => {
  try {
    return parsePort(text);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

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
    .requiredOption('-c, --config <file>', 'weir.yaml to check')
    .action(async (o: { config: string }) => exit((await import('./check.js')).runCheck(o.config)));

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

  return program;
}
