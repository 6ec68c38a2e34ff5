import { mkdtemp, readdir, readFile, rm, stat, symlink, writeFile, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isWeirError } from '../gateway/core/errors.js';
import { hashPassword, verifyPassword } from '../gateway/broker/access/password-hash.js';
import {
  addUser,
  formatUsersFileProblem,
  parseUsersText,
  readUsersFile,
  removeUser,
  usernameProblem,
} from '../gateway/broker/access/users-file.js';

const FAST = { N: 1024, r: 8, p: 1 };
let dir: string;
let hash: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weir-users-'));
  hash ??= await hashPassword('pw', FAST);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function problems(text: string): string[] {
  const result = parseUsersText('users', text);
  return result.ok ? [] : result.problems.map(formatUsersFileProblem);
}

describe('parsing the users file', () => {
  it('reads users between comments, blank lines and CRLF endings', () => {
    const result = parseUsersText('users', `# devices\r\n\r\ndev1:${hash}\r\n   # indented comment\nnode-red:${hash}\n`);
    expect(result.ok && [...result.users.keys()]).toEqual(['dev1', 'node-red']);
  });

  it('reports every malformed line at once with its line number', () => {
    const text = [`ok:${hash}`, 'no colon here', `:${hash}`, 'bad:plaintext', `ok:${hash}`, `white space :${hash}`, `ctl\u0007:${hash}`].join('\n');
    expect(problems(text)).toEqual([
      'users:2: expected "username:hash"',
      'users:3: username is empty',
      'users:4: user "bad": malformed password hash (expected $scrypt$N=..,r=..,p=..$salt$hash)',
      'users:5: duplicate user "ok" (first defined on line 1)',
      'users:6: username starts or ends with whitespace',
      'users:7: username contains a control character',
    ]);
  });

  it('names an unreadable file without a line', async () => {
    const result = await readUsersFile(join(dir, 'missing'));
    expect(!result.ok && formatUsersFileProblem(result.problems[0]!)).toMatch(/missing: cannot read users file: ENOENT/);
  });

  it.each([
    ['', 'username is empty'],
    ['a:b', 'username contains ":"'],
    ['tab\there', 'username contains a control character'],
    ['#hidden', 'username starts with "#"'],
    ['$anonymous', '"$anonymous" is reserved for unauthenticated clients'],
    ['sensor/1', undefined],
    ['ünïcode', undefined],
  ])('username %j: %s', (name, problem) => {
    expect(usernameProblem(name)).toBe(problem);
  });
});

describe('addUser and removeUser', () => {
  it('creates the file with mode 0600', async () => {
    const file = join(dir, 'users');
    expect(await addUser(file, 'dev1', 'pw1', { params: FAST })).toBe('added');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const result = await readUsersFile(file);
    expect(result.ok && (await verifyPassword('pw1', result.users.get('dev1')!))).toBe(true);
  });

  it('updates a user in place and keeps other users, comments and order', async () => {
    const file = join(dir, 'users');
    await writeFile(file, `# header\nalice:${hash}\n\nbob:${hash}\n# footer\n`, { mode: 0o644 });
    expect(await addUser(file, 'alice', 'changed', { params: FAST })).toBe('updated');
    const lines = (await readFile(file, 'utf8')).split('\n');
    expect(lines[0]).toBe('# header');
    expect(lines[1]).toMatch(/^alice:\$scrypt\$/);
    expect(lines.slice(2)).toEqual(['', `bob:${hash}`, '# footer', '']);
    const result = await readUsersFile(file);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(await verifyPassword('changed', result.users.get('alice')!)).toBe(true);
    expect(result.users.get('bob')).toBe(hash);
    // Rewriting narrows a loose mode: the file holds password hashes.
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('leaves no temporary files behind', async () => {
    const file = join(dir, 'users');
    await addUser(file, 'a', 'pw', { params: FAST });
    await addUser(file, 'a', 'pw2', { params: FAST });
    expect(await readdir(dir)).toEqual(['users']);
  });

  it('keeps both users when two edits race in one process', async () => {
    const file = join(dir, 'users');
    await Promise.all([addUser(file, 'a', 'pw', { params: FAST }), addUser(file, 'b', 'pw', { params: FAST })]);
    const result = await readUsersFile(file);
    expect(result.ok && [...result.users.keys()].sort()).toEqual(['a', 'b']);
  });

  it('refuses to edit an invalid file and leaves it untouched', async () => {
    const file = join(dir, 'users');
    const text = `alice:${hash}\ngarbage\n`;
    await writeFile(file, text);
    const error = await addUser(file, 'bob', 'pw', { params: FAST }).catch((e: unknown) => e);
    expect(isWeirError(error, 'USERS_FILE_INVALID')).toBe(true);
    expect((error as Error).message).toContain(`${file}:2: expected "username:hash"`);
    expect(await readFile(file, 'utf8')).toBe(text);
  });

  it('refuses a bad username or an empty password before touching the file', async () => {
    const file = join(dir, 'users');
    await expect(addUser(file, 'a:b', 'pw')).rejects.toThrow(RangeError);
    await expect(addUser(file, 'ok', '')).rejects.toThrow('password is empty');
    expect(await readdir(dir)).toEqual([]);
  });

  it('edits through a symlink without replacing it', async () => {
    const real = join(dir, 'real-users');
    const link = join(dir, 'users');
    await writeFile(real, `alice:${hash}\n`);
    await symlink(real, link);
    await addUser(link, 'bob', 'pw', { params: FAST });
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    const result = await readUsersFile(real);
    expect(result.ok && [...result.users.keys()]).toEqual(['alice', 'bob']);
  });

  it('removes a user and reports a missing one', async () => {
    const file = join(dir, 'users');
    await writeFile(file, `# keep\nalice:${hash}\nbob:${hash}\n`);
    expect(await removeUser(file, 'alice')).toBe(true);
    expect(await readFile(file, 'utf8')).toBe(`# keep\nbob:${hash}\n`);
    expect(await removeUser(file, 'alice')).toBe(false);
  });
});
