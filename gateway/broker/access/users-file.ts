/**
 * The users file, Mosquitto-style: one `username:hash` per line, `#` comments
 * and blank lines allowed. Problems carry `file:line` so an operator can fix
 * them; edits go through a temp file, fsync and rename so a crash or power cut
 * leaves either the old file or the new one, never half of each.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { WeirError } from '../../core/errors.js';
import { hashPassword, parsePasswordHash, type ScryptParams } from './password-hash.js';

export interface UsersFileProblem {
  readonly file: string;
  /** 1-based; 0 when the problem is the file as a whole (unreadable). */
  readonly line: number;
  readonly message: string;
}

export type UsersFileResult =
  | { readonly ok: true; readonly users: ReadonlyMap<string, string> }
  | { readonly ok: false; readonly problems: readonly UsersFileProblem[] };

export function formatUsersFileProblem(p: UsersFileProblem): string {
  return p.line > 0 ? `${p.file}:${p.line}: ${p.message}` : `${p.file}: ${p.message}`;
}

/** Reserved by the ACL to mean "unauthenticated clients". */
export const ANONYMOUS_USER = '$anonymous';

// C0, DEL and C1 controls; lone UTF-16 surrogates cannot be encoded as the UTF-8 MQTT requires.
const CONTROL_OR_LONE_SURROGATE = /[\u0000-\u001f\u007f-\u009f]|\p{Cs}/u;

/** Why a username cannot be stored, or undefined when it can. */
export function usernameProblem(username: string): string | undefined {
  if (username.length === 0) return 'username is empty';
  if (username.includes(':')) return 'username contains ":"';
  if (CONTROL_OR_LONE_SURROGATE.test(username)) return 'username contains a control character';
  // Either would be read back as a comment or blank line, or silently differ from what was typed.
  if (username.startsWith('#')) return 'username starts with "#"';
  if (username.trim() !== username) return 'username starts or ends with whitespace';
  if (username === ANONYMOUS_USER) return `"${ANONYMOUS_USER}" is reserved for unauthenticated clients`;
  if (Buffer.byteLength(username, 'utf8') > 65535) return 'username is longer than 65535 bytes [MQTT-1.5.3]';
  return undefined;
}

interface ParsedLines {
  readonly lines: string[];
  /** username -> index into `lines` */
  readonly index: Map<string, number>;
  readonly hashes: Map<string, string>;
  readonly problems: UsersFileProblem[];
}

function parseLines(file: string, text: string): ParsedLines {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const index = new Map<string, number>();
  const hashes = new Map<string, string>();
  const problems: UsersFileProblem[] = [];
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const at = (message: string) => problems.push({ file, line: i + 1, message });
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon < 0) return at('expected "username:hash"');
    const username = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    const nameProblem = usernameProblem(username);
    if (nameProblem) return at(nameProblem);
    const parsed = parsePasswordHash(hash);
    if ('error' in parsed) return at(`user "${username}": ${parsed.error}`);
    const first = index.get(username);
    if (first !== undefined) return at(`duplicate user "${username}" (first defined on line ${first + 1})`);
    index.set(username, i);
    hashes.set(username, hash);
  });
  return { lines, index, hashes, problems };
}

export function parseUsersText(file: string, text: string): UsersFileResult {
  const { hashes, problems } = parseLines(file, text);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, users: hashes };
}

export async function readUsersFile(file: string): Promise<UsersFileResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    return { ok: false, problems: [{ file, line: 0, message: `cannot read users file: ${(e as Error).message}` }] };
  }
  return parseUsersText(file, text);
}

export interface AddUserOptions {
  readonly params?: ScryptParams;
}

/**
 * Creates the file or the user, or replaces that user's hash in place; every
 * other line (comments, order, other users) is kept byte for byte.
 * Throws RangeError for a bad username or empty password, and
 * WeirError(USERS_FILE_INVALID) when the existing file does not parse: it is
 * not silently repaired.
 */
export async function addUser(file: string, username: string, password: string, options: AddUserOptions = {}): Promise<'added' | 'updated'> {
  const nameProblem = usernameProblem(username);
  if (nameProblem) throw new RangeError(nameProblem);
  if (password.length === 0) throw new RangeError('password is empty');
  return serialized(file, async (target) => {
    const parsed = await readForEdit(target);
    const entry = `${username}:${await hashPassword(password, options.params)}`;
    const existing = parsed.index.get(username);
    if (existing === undefined) parsed.lines.push(entry);
    else parsed.lines[existing] = entry;
    await writeAtomically(target, parsed.lines);
    return existing === undefined ? 'added' : 'updated';
  });
}

/** Removes a user; false when there was no such user (the file is then left untouched). */
export async function removeUser(file: string, username: string): Promise<boolean> {
  return serialized(file, async (target) => {
    const parsed = await readForEdit(target);
    const existing = parsed.index.get(username);
    if (existing === undefined) return false;
    parsed.lines.splice(existing, 1);
    await writeAtomically(target, parsed.lines);
    return true;
  });
}

async function readForEdit(file: string): Promise<ParsedLines> {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const parsed = parseLines(file, text);
  if (parsed.problems.length > 0) {
    throw new WeirError('USERS_FILE_INVALID', `fix the users file first:\n${parsed.problems.map(formatUsersFileProblem).join('\n')}`);
  }
  return parsed;
}

/**
 * Two edits in one process would otherwise both read the old file and the
 * second rename would drop the first user. Separate processes are not locked
 * against each other: `weir users` is an operator command, run one at a time.
 */
const editQueues = new Map<string, Promise<unknown>>();

async function serialized<T>(file: string, edit: (target: string) => Promise<T>): Promise<T> {
  // Edit through a symlink's target, or the rename would replace the link with a plain file.
  const target = await realpath(file).catch(() => resolve(file));
  const previous = editQueues.get(target) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => edit(target));
  editQueues.set(target, run);
  try {
    return await run;
  } finally {
    if (editQueues.get(target) === run) editQueues.delete(target);
  }
}

async function writeAtomically(file: string, lines: readonly string[]): Promise<void> {
  const dir = dirname(file);
  const owner = await stat(file).catch(() => undefined);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    // Explicit chmod: the mode given to open() is narrowed by the umask, never by less than 0600.
    await handle.chmod(0o600);
    // `sudo weir users add` must not leave a root-owned file the weir service cannot read.
    if (owner && process.getuid?.() === 0) await handle.chown(owner.uid, owner.gid);
    await handle.writeFile(lines.length > 0 ? `${lines.join('\n')}\n` : '', 'utf8');
    await handle.sync();
    await handle.close();
    await rename(tmp, file);
  } catch (e) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  await syncDirectory(dir);
}

/** Makes the rename itself durable; some file systems refuse to fsync a directory, which is not fatal. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // EINVAL/EISDIR on file systems without directory fsync.
  } finally {
    await handle.close();
  }
}
