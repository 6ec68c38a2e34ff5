import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isWeirError } from '../gateway/core/errors.js';
import { addUser } from '../gateway/broker/access/users-file.js';
import {
  createAccessControl,
  isLoopbackAddress,
  type AuthConfig,
  type UsersReload,
} from '../gateway/broker/access/create-access-control.js';
import type { ClientIdentity } from '../gateway/broker/access/access-control.js';

const FAST = { N: 1024, r: 8, p: 1 };
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weir-access-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const from = (remoteAddress: string | undefined, username?: string): ClientIdentity => ({ clientId: 'c1', username, remoteAddress });
const pw = (s: string) => Buffer.from(s);

describe('isLoopbackAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['::ffff:10.0.0.5', false],
    ['10.0.0.5', false],
    ['128.0.0.1', false],
    ['::2', false],
    ['fe80::1%lo', false],
    ['localhost', false],
    ['', false],
    [undefined, false],
  ])('%j: %s', (address, expected) => {
    expect(isLoopbackAddress(address)).toBe(expected);
  });
});

describe('anonymous policy', () => {
  const policy = async (anonymous: AuthConfig['anonymous']) => createAccessControl({ anonymous }, { baseDir: dir });

  it.each([
    ['127.0.0.1', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['192.168.1.20', false],
    ['::ffff:192.168.1.20', false],
    ['fd00::20', false],
    [undefined, false],
  ])('loopback (the default) admits an anonymous client from %j: %s', async (address, admitted) => {
    const outcome = await (await policy('loopback')).authenticate(from(address), undefined);
    expect(outcome).toEqual(admitted ? { ok: true, username: undefined } : { ok: false, reason: 'anonymous-not-allowed' });
  });

  it('never refuses anonymous clients on loopback too; always admits them from anywhere', async () => {
    expect(await (await policy('never')).authenticate(from('127.0.0.1'), undefined)).toEqual({ ok: false, reason: 'anonymous-not-allowed' });
    expect(await (await policy('always')).authenticate(from('203.0.113.7'), undefined)).toEqual({ ok: true, username: undefined });
  });

  it('does not treat a password without a username as anonymous', async () => {
    expect(await (await policy('always')).authenticate(from('127.0.0.1'), pw('x'))).toEqual({ ok: false, reason: 'bad-credentials' });
  });
});

describe('users-file authentication', () => {
  async function withUsers(extra: Partial<AuthConfig> = {}) {
    const file = join(dir, 'users');
    await addUser(file, 'dev1', 'right', { params: FAST });
    return createAccessControl({ anonymous: 'loopback', usersFile: 'users', ...extra }, { baseDir: dir });
  }

  it('accepts the right password from anywhere and refuses a wrong one', async () => {
    const access = await withUsers();
    expect(await access.authenticate(from('192.168.1.20', 'dev1'), pw('right'))).toEqual({ ok: true, username: 'dev1' });
    expect(await access.authenticate(from('192.168.1.20', 'dev1'), pw('wrong'))).toEqual({ ok: false, reason: 'bad-credentials' });
  });

  it('makes a client that sends a username prove it, even on loopback', async () => {
    const access = await withUsers({ anonymous: 'always' });
    expect(await access.authenticate(from('127.0.0.1', 'dev1'), undefined)).toEqual({ ok: false, reason: 'bad-credentials' });
    expect(await access.authenticate(from('127.0.0.1', 'dev1'), pw('wrong'))).toEqual({ ok: false, reason: 'bad-credentials' });
    expect(await access.authenticate(from('127.0.0.1', 'nobody'), pw('right'))).toEqual({ ok: false, reason: 'bad-credentials' });
  });

  it('refuses every username when no users file is configured', async () => {
    const access = await createAccessControl({ anonymous: 'always' }, { baseDir: dir });
    expect(await access.authenticate(from('127.0.0.1', 'dev1'), pw('x'))).toEqual({ ok: false, reason: 'bad-credentials' });
  });

  it('refuses to start on a missing or invalid users file', async () => {
    const missing = await createAccessControl({ anonymous: 'loopback', usersFile: 'nope' }, { baseDir: dir }).catch((e: unknown) => e);
    expect(isWeirError(missing, 'USERS_FILE_INVALID')).toBe(true);
    await writeFile(join(dir, 'bad'), 'dev1\n');
    const invalid = await createAccessControl({ anonymous: 'loopback', usersFile: 'bad' }, { baseDir: dir }).catch((e: unknown) => e);
    expect((invalid as Error).message).toBe(`${join(dir, 'bad')}:1: expected "username:hash"`);
  });

  it('reloads new users and keeps the old ones when the new file is invalid', async () => {
    const reports: UsersReload[] = [];
    const file = join(dir, 'users');
    await addUser(file, 'dev1', 'right', { params: FAST });
    const access = await createAccessControl({ anonymous: 'never', usersFile: file }, { baseDir: dir, onReload: (r) => reports.push(r) });

    await addUser(file, 'dev2', 'two', { params: FAST });
    await access.reload();
    expect(reports.at(-1)).toEqual({ ok: true, users: 2 });
    expect(await access.authenticate(from('10.0.0.9', 'dev2'), pw('two'))).toEqual({ ok: true, username: 'dev2' });

    await writeFile(file, 'dev1:oops\n');
    const result = await access.reloadUsers();
    expect(result).toEqual({ ok: false, keptUsers: 2, problems: [{ file, line: 1, message: expect.stringContaining('malformed password hash') }] });
    expect(reports).toHaveLength(2);
    expect(await access.authenticate(from('10.0.0.9', 'dev1'), pw('right'))).toEqual({ ok: true, username: 'dev1' });
    expect(access.userCount).toBe(2);
  });

  it('refuses a removed user after reload even though its password was cached', async () => {
    const file = join(dir, 'users');
    await addUser(file, 'dev1', 'right', { params: FAST });
    await addUser(file, 'dev2', 'two', { params: FAST });
    const access = await createAccessControl({ anonymous: 'never', usersFile: file }, { baseDir: dir });
    expect((await access.authenticate(from('10.0.0.9', 'dev1'), pw('right'))).ok).toBe(true);
    await writeFile(file, '');
    await access.reload();
    expect(await access.authenticate(from('10.0.0.9', 'dev1'), pw('right'))).toEqual({ ok: false, reason: 'bad-credentials' });
  });
});

describe('ACL through the access control', () => {
  it('applies the configured acl and reserved topics', async () => {
    const access = await createAccessControl(
      { anonymous: 'loopback', acl: [{ user: '$anonymous', topic: 'local/#', access: 'readwrite' }] },
      { baseDir: dir, reservedPublish: ['local/out/#'] },
    );
    const anon = from('127.0.0.1');
    expect(access.canPublish(anon, 'local/x')).toBe(true);
    expect(access.canPublish(anon, 'local/out/x')).toBe(false);
    expect(access.canPublish(anon, 'other')).toBe(false);
    expect(access.canSubscribe(anon, 'local/#')).toBe(true);
    expect(access.canSubscribe(anon, '#')).toBe(false);
  });
});
