/**
 * The AccessControl the broker calls, built from `broker.auth`: who may
 * connect (anonymous policy, users file) and what they may touch (acl.ts).
 */
import { BlockList } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import type { WeirConfig } from '../../config/schema.js';
import { WeirError } from '../../core/errors.js';
import type { AccessControl, AuthOutcome, ClientIdentity } from './access-control.js';
import { Acl } from './acl.js';
import { PasswordVerifier, type PasswordVerifierOptions } from './password-verifier.js';
import { formatUsersFileProblem, readUsersFile, type UsersFileProblem } from './users-file.js';

export type AuthConfig = WeirConfig['broker']['auth'];

export interface AccessControlOptions {
  /** Directory a relative `usersFile` is resolved against (the config file's). */
  readonly baseDir: string;
  /** Topic filters clients may not publish to; default DEFAULT_RESERVED_PUBLISH_FILTERS. */
  readonly reservedPublish?: readonly string[];
  readonly verifier?: PasswordVerifierOptions;
  /**
   * Told the outcome of every reload, e.g. to log `warn` with each problem
   * when `ok` is false. The broker calls `reload()` through the interface,
   * so this is where SIGHUP results surface.
   */
  readonly onReload?: (result: UsersReload) => void;
}

/** What a reload did; on failure the previous users stay in force. */
export type UsersReload =
  | { readonly ok: true; readonly users: number }
  | { readonly ok: false; readonly problems: readonly UsersFileProblem[]; readonly keptUsers: number };

export interface FileAccessControl extends AccessControl {
  /** An unreadable or invalid file keeps the old users and is reported to `onReload`, not thrown. */
  reload(): Promise<void>;
  /** The same reload, returning its outcome to the caller as well. */
  reloadUsers(): Promise<UsersReload>;
  readonly userCount: number;
  readonly verifier: PasswordVerifier;
}

/**
 * Throws WeirError(USERS_FILE_INVALID) when the users file is missing or
 * invalid at boot, and WeirError(CONFIG_INVALID) for a bad ACL: the broker
 * must not start with an access policy other than the one configured.
 */
export async function createAccessControl(auth: AuthConfig, options: AccessControlOptions): Promise<FileAccessControl> {
  const usersFile = auth.usersFile === undefined ? undefined : isAbsolute(auth.usersFile) ? auth.usersFile : resolve(options.baseDir, auth.usersFile);
  const acl = new Acl(auth.acl, options.reservedPublish ? { reservedPublish: options.reservedPublish } : {});
  let users: ReadonlyMap<string, string> = new Map();
  if (usersFile !== undefined) {
    const read = await readUsersFile(usersFile);
    if (!read.ok) throw new WeirError('USERS_FILE_INVALID', read.problems.map(formatUsersFileProblem).join('\n'));
    users = read.users;
  }
  return new ConfiguredAccessControl(auth.anonymous, usersFile, users, acl, new PasswordVerifier(options.verifier), options.onReload);
}

class ConfiguredAccessControl implements FileAccessControl {
  readonly #anonymous: AuthConfig['anonymous'];
  readonly #usersFile: string | undefined;
  readonly #acl: Acl;
  #users: ReadonlyMap<string, string>;
  #reloading: Promise<UsersReload> = Promise.resolve({ ok: true, users: 0 });
  readonly #onReload: ((result: UsersReload) => void) | undefined;
  readonly verifier: PasswordVerifier;

  constructor(
    anonymous: AuthConfig['anonymous'],
    usersFile: string | undefined,
    users: ReadonlyMap<string, string>,
    acl: Acl,
    verifier: PasswordVerifier,
    onReload: ((result: UsersReload) => void) | undefined,
  ) {
    this.#onReload = onReload;
    this.#anonymous = anonymous;
    this.#usersFile = usersFile;
    this.#users = users;
    this.#acl = acl;
    this.verifier = verifier;
  }

  get userCount(): number {
    return this.#users.size;
  }

  async authenticate(identity: ClientIdentity, password: Buffer | undefined): Promise<AuthOutcome> {
    const { username, remoteAddress } = identity;
    if (username === undefined) {
      // [MQTT-3.1.2-22] a password without a username is a protocol error in 3.1.1; never treat it as anonymous.
      if (password !== undefined) return { ok: false, reason: 'bad-credentials' };
      return this.#anonymousAllowed(remoteAddress) ? { ok: true, username: undefined } : { ok: false, reason: 'anonymous-not-allowed' };
    }
    // A client that names itself must prove it, on loopback too: a local
    // process must not borrow a user's ACL grants by just sending the name.
    if (password === undefined) return { ok: false, reason: 'bad-credentials' };
    const ok = await this.verifier.verify(username, password, this.#users.get(username));
    return ok ? { ok: true, username } : { ok: false, reason: 'bad-credentials' };
  }

  canPublish(identity: ClientIdentity, topic: string): boolean {
    return this.#acl.canPublish(identity, topic);
  }

  canSubscribe(identity: ClientIdentity, filter: string): boolean {
    return this.#acl.canSubscribe(identity, filter);
  }

  async reload(): Promise<void> {
    await this.reloadUsers();
  }

  /** Reloads run one after another, so an older read can never replace a newer one. */
  reloadUsers(): Promise<UsersReload> {
    const next = this.#reloading.then(() => this.#reloadNow());
    this.#reloading = next;
    return next.then((result) => {
      this.#onReload?.(result);
      return result;
    });
  }

  async #reloadNow(): Promise<UsersReload> {
    if (this.#usersFile === undefined) return { ok: true, users: 0 };
    const read = await readUsersFile(this.#usersFile);
    if (!read.ok) return { ok: false, problems: read.problems, keptUsers: this.#users.size };
    // Cached verifications need no flush: each remembers the hash it matched, so a changed or removed user misses.
    this.#users = read.users;
    return { ok: true, users: read.users.size };
  }

  #anonymousAllowed(remoteAddress: string | undefined): boolean {
    switch (this.#anonymous) {
      case 'always':
        return true;
      case 'never':
        return false;
      case 'loopback':
        return isLoopbackAddress(remoteAddress);
    }
  }
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * 127.0.0.0/8, ::1, and IPv4-mapped ::ffff:127.x.y.z (a dual-stack listener
 * reports IPv4 peers that way). An unknown address is not loopback. A reverse
 * proxy on this host makes every client look local: use `anonymous: never`
 * behind one.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined || address === '') return false;
  // Strip a zone id (`fe80::1%eth0`); BlockList rejects it and no zoned address is loopback anyway.
  const bare = address.includes('%') ? address.slice(0, address.indexOf('%')) : address;
  try {
    return bare.includes(':') ? LOOPBACK.check(bare, 'ipv6') : LOOPBACK.check(bare, 'ipv4');
  } catch {
    return false;
  }
}
