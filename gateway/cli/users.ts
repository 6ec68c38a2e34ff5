/** `weir users add|remove`: manage the MQTT users file (salted scrypt hashes, mode 0600). */
import { createInterface } from 'node:readline';
import { addUser, removeUser, usernameProblem } from '../broker/access/users-file.js';

export async function runUsersAdd(file: string, username: string, options: { password?: string }): Promise<number> {
  const problem = usernameProblem(username);
  if (problem) {
    process.stderr.write(`weir: ${problem}\n`);
    return 1;
  }
  const password = options.password ?? (await readPassword());
  if (!password) {
    process.stderr.write('weir: an empty password is not allowed\n');
    return 1;
  }
  const outcome = await addUser(file, username, password);
  process.stdout.write(`${outcome} user ${username} in ${file}\n`);
  return 0;
}

export async function runUsersRemove(file: string, username: string): Promise<number> {
  const removed = await removeUser(file, username);
  process.stdout.write(removed ? `removed user ${username} from ${file}\n` : `no user ${username} in ${file}\n`);
  return removed ? 0 : 1;
}

/** Prompts without echo on a terminal; reads the first line of stdin otherwise (for scripts). */
async function readPassword(): Promise<string> {
  const tty = process.stdin.isTTY;
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: tty });
  if (tty) {
    process.stdout.write('Password: ');
    // hide what is typed: write nothing back while the prompt is open
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
  }
  const line = await new Promise<string>((resolve) => {
    rl.once('line', resolve);
    rl.once('close', () => resolve(''));
  });
  rl.close();
  if (tty) process.stdout.write('\n');
  return line;
}
