import { describe, expect, it } from 'vitest';
import type { AclEntry } from '../gateway/config/schema.js';
import { isWeirError } from '../gateway/core/errors.js';
import { Acl, DEFAULT_RESERVED_PUBLISH_FILTERS, checkAclEntries } from '../gateway/broker/access/acl.js';
import type { ClientIdentity } from '../gateway/broker/access/access-control.js';

const who = (username: string | undefined, clientId = 'c1'): ClientIdentity => ({ username, clientId, remoteAddress: '10.0.0.5' });
const ANON = undefined;

describe('without an acl', () => {
  const acl = new Acl(undefined);

  it.each([
    ['sensors/a/temp', true],
    ['weir/dead-letter/x', true],
    ['weir/readingsX/d1', true],
    ['$SYS/broker/uptime', false],
    ['$anything', false],
    ['weir/readings/d1', false],
    ['weir/readings', false],
    ['weir/alerts/a/b', false],
    ['a/+', false],
    ['', false],
  ])('publish to %j: %s', (topic, expected) => {
    expect(acl.canPublish(who('alice'), topic)).toBe(expected);
    expect(acl.canPublish(who(ANON), topic)).toBe(expected);
  });

  it.each([
    ['#', true],
    ['$SYS/#', true],
    ['weir/readings/#', true],
    ['a/#/b', false],
  ])('subscribe to %j: %s', (filter, expected) => {
    expect(acl.canSubscribe(who('alice'), filter)).toBe(expected);
  });

  it('reserves the topics it is given instead of the defaults', () => {
    expect(DEFAULT_RESERVED_PUBLISH_FILTERS).toEqual(['weir/readings/#', 'weir/alerts/#']);
    const custom = new Acl(undefined, { reservedPublish: ['site1/out/#'] });
    expect(custom.canPublish(who('a'), 'site1/out/x')).toBe(false);
    expect(custom.canPublish(who('a'), 'weir/readings/x')).toBe(true);
    expect(custom.canPublish(who('a'), '$SYS/x')).toBe(false);
  });
});

describe('with an acl', () => {
  const entries: AclEntry[] = [
    { topic: 'public/#', access: 'read' },
    { topic: 'devices/%c/#', access: 'readwrite' },
    { topic: 'users/%u/inbox', access: 'read' },
    { topic: 'users/%u/outbox', access: 'write' },
    { topic: 'tele/dev-%c/state', access: 'write' },
    { user: 'ops', topic: 'sensors/#', access: 'readwrite' },
    { user: 'ops', topic: 'sensors/secret/#', access: 'deny' },
    { user: 'ops', topic: '$SYS/#', access: 'read' },
    { user: 'dash', topic: 'sensors/+/temp', access: 'read' },
    { user: '$anonymous', topic: 'lobby/+', access: 'readwrite' },
    { topic: 'weir/#', access: 'readwrite' },
  ];
  const acl = new Acl(entries);

  it.each([
    ['alice', 'c1', 'devices/c1/x', true],
    ['alice', 'c1', 'devices/c1', true],
    ['alice', 'c1', 'devices/c2/x', false],
    ['alice', 'c1', 'users/alice/outbox', true],
    ['alice', 'c1', 'users/bob/outbox', false],
    ['alice', 'c1', 'users/alice/inbox', false],
    ['alice', 'c1', 'public/news', false],
    ['alice', 'c1', 'tele/dev-c1/state', true],
    ['alice', 'c2', 'tele/dev-c1/state', false],
    ['ops', 'c1', 'sensors/a/temp', true],
    ['ops', 'c1', 'sensors/secret/x', false],
    ['ops', 'c1', 'sensors/secret', false],
    ['ops', 'c1', '$SYS/broker/x', false],
    ['dash', 'c1', 'sensors/a/temp', false],
    [ANON, 'c1', 'lobby/x', true],
    [ANON, 'c1', 'devices/c1/x', true],
    [ANON, 'c1', 'users/undefined/outbox', false],
    ['alice', 'c1', 'lobby/x', false],
    ['alice', 'c1', 'weir/dead-letter/x', true],
    ['alice', 'c1', 'weir/readings/d1', false],
    ['alice', 'c1', 'weir/alerts/d1', false],
  ])('%s (client %s) publishes to %j: %s', (user, clientId, topic, expected) => {
    expect(acl.canPublish(who(user, clientId), topic)).toBe(expected);
  });

  it.each([
    ['dash', 'sensors/a/temp', true],
    ['dash', 'sensors/+/temp', true],
    ['dash', 'sensors/#', false],
    ['dash', 'sensors/+/+', false],
    ['dash', 'sensors/a/humidity', false],
    ['alice', 'public/#', true],
    ['alice', 'public', true],
    ['alice', 'public/+/x', true],
    ['alice', '#', false],
    ['alice', '+/news', false],
    ['alice', 'users/alice/inbox', true],
    ['alice', 'users/+/inbox', false],
    ['alice', 'devices/c1/#', true],
    ['alice', 'devices/+/#', false],
    ['ops', 'sensors/a/#', true],
    // A subscription that overlaps a deny is refused whole: aedes does no per-message check.
    ['ops', 'sensors/#', false],
    ['ops', 'sensors/+/temp', false],
    ['ops', 'sensors/secret/x', false],
    ['ops', '$SYS/#', true],
    ['alice', '$SYS/#', false],
    ['alice', 'weir/readings/#', true],
  ])('%s subscribes to %j: %s', (user, filter, expected) => {
    expect(acl.canSubscribe(who(user), filter)).toBe(expected);
  });

  it('does not apply %u grants to anonymous clients', () => {
    expect(acl.canSubscribe(who(ANON), 'users/+/inbox')).toBe(false);
    expect(acl.canSubscribe(who(ANON), 'users/undefined/inbox')).toBe(false);
  });
});

describe('usernames and client ids that try to widen a placeholder', () => {
  const acl = new Acl([
    { topic: 'users/%u/#', access: 'readwrite' },
    { topic: 'devices/%c/state', access: 'readwrite' },
    { topic: 'tele/dev-%c', access: 'write' },
  ]);

  it.each([
    // [username, clientId, topic]
    ['+', 'c1', 'users/bob/x'],
    ['#', 'c1', 'users/bob/x'],
    ['bob/x', 'c1', 'users/bob/x/y'],
    ['a', '+', 'devices/c9/state'],
    ['a', '#', 'devices/c9/state'],
    ['a', 'c9/evil', 'devices/c9/evil/state'],
    ['a', 'x/y', 'tele/dev-x/y'],
  ])('%j / %j cannot publish to %j', (username, clientId, topic) => {
    expect(acl.canPublish(who(username, clientId), topic)).toBe(false);
  });

  it.each([
    ['+', 'c1', 'users/+/#'],
    ['#', 'c1', 'users/#'],
    ['#', 'c1', 'users/bob/#'],
    ['bob/x', 'c1', 'users/bob/x/#'],
    ['a', '+', 'devices/+/state'],
    ['a', '#', 'devices/+/state'],
  ])('%j / %j cannot subscribe to %j', (username, clientId, filter) => {
    expect(acl.canSubscribe(who(username, clientId), filter)).toBe(false);
  });

  it('still grants an ordinary name its own space', () => {
    expect(acl.canPublish(who('bob', 'c9'), 'users/bob/x')).toBe(true);
    expect(acl.canSubscribe(who('bob', 'c9'), 'users/bob/#')).toBe(true);
    expect(acl.canPublish(who('bob', 'c9'), 'devices/c9/state')).toBe(true);
    expect(acl.canPublish(who('bob', 'c9'), 'tele/dev-c9')).toBe(true);
  });

  it('widens a deny it cannot substitute instead of dropping it', () => {
    const denying = new Acl([
      { topic: '#', access: 'readwrite' },
      { topic: 'private/%c/#', access: 'deny' },
      { topic: 'home/%u/#', access: 'deny' },
    ]);
    expect(denying.canPublish(who('a', 'c1'), 'private/c1/x')).toBe(false);
    expect(denying.canPublish(who('a', 'c1'), 'private/c2/x')).toBe(true);
    // Literally `private/a/b/#`; widened to everything under `private/`.
    expect(denying.canPublish(who('a', 'a/b'), 'private/a/b/x')).toBe(false);
    expect(denying.canPublish(who('a', 'a/b'), 'private/c2/x')).toBe(false);
    expect(denying.canPublish(who('a', '+'), 'private/c2/x')).toBe(false);
    expect(denying.canSubscribe(who('a', '#'), 'private/c2/#')).toBe(false);
    expect(denying.canPublish(who('a', 'a/b'), 'other/x')).toBe(true);
    // Anonymous has no %u: the deny covers every home.
    expect(denying.canPublish(who(ANON), 'home/x/y')).toBe(false);
    expect(denying.canPublish(who('bob'), 'home/x/y')).toBe(true);
  });
});

describe('acl edge cases', () => {
  it('denies everything when the acl is configured but empty', () => {
    const acl = new Acl([]);
    expect(acl.canPublish(who('a'), 'x')).toBe(false);
    expect(acl.canSubscribe(who('a'), 'x')).toBe(false);
  });

  it('lets a deny for every client override a per-user grant', () => {
    const acl = new Acl([
      { user: 'admin', topic: 'cmd/#', access: 'readwrite' },
      { topic: 'cmd/reboot', access: 'deny' },
    ]);
    expect(acl.canPublish(who('admin'), 'cmd/ping')).toBe(true);
    expect(acl.canPublish(who('admin'), 'cmd/reboot')).toBe(false);
    expect(acl.canSubscribe(who('admin'), 'cmd/#')).toBe(false);
  });

  it('does not let a `#` deny hide `$SYS`, matching how `#` subscriptions behave', () => {
    const acl = new Acl([
      { topic: '$SYS/#', access: 'read' },
      { topic: '#', access: 'deny' },
    ]);
    expect(acl.canSubscribe(who('a'), '$SYS/#')).toBe(true);
    expect(acl.canSubscribe(who('a'), 'x')).toBe(false);
  });

  it('reports every invalid entry at once', () => {
    const entries: AclEntry[] = [
      { topic: 'ok/#', access: 'read' },
      { topic: 'a/#/b', access: 'read' },
      { user: '', topic: 'x', access: 'write' },
    ];
    expect(checkAclEntries(entries)).toEqual([
      { index: 1, message: '"a/#/b" is not a valid topic filter' },
      { index: 2, message: 'user is empty; omit it to mean every client' },
    ]);
    let error: unknown;
    try {
      new Acl(entries);
    } catch (e) {
      error = e;
    }
    expect(isWeirError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toBe(
      'broker.auth.acl[1]: "a/#/b" is not a valid topic filter\nbroker.auth.acl[2]: user is empty; omit it to mean every client',
    );
  });
});
