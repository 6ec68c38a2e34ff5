import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCRYPT_PARAMS,
  hashPassword,
  needsRehash,
  parsePasswordHash,
  verifyPassword,
} from '../gateway/broker/access/password-hash.js';
import { PasswordVerifier } from '../gateway/broker/access/password-verifier.js';

// Cheap parameters keep the suite fast on a 2-core board; one test uses the defaults.
const FAST = { N: 1024, r: 8, p: 1 };

describe('password hashes', () => {
  it('round-trips with the default parameters and rejects a wrong password', async () => {
    const encoded = await hashPassword('s3cret');
    expect(encoded).toMatch(/^\$scrypt\$N=16384,r=8,p=1\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/);
    expect(await verifyPassword('s3cret', encoded)).toBe(true);
    expect(await verifyPassword('s3cret ', encoded)).toBe(false);
    expect(await verifyPassword('', encoded)).toBe(false);
  });

  it('salts every hash', async () => {
    const [a, b] = await Promise.all([hashPassword('same', FAST), hashPassword('same', FAST)]);
    expect(a).not.toBe(b);
  });

  it('compares MQTT password bytes, not strings', async () => {
    const encoded = await hashPassword('pässwörd', FAST);
    expect(await verifyPassword(Buffer.from('pässwörd', 'utf8'), encoded)).toBe(true);
    expect(await verifyPassword(Buffer.from('pässwörd', 'latin1'), encoded)).toBe(false);
  });

  it('reads the parameters from the hash, so stronger ones verify later', async () => {
    const strong = await hashPassword('pw', { N: 2048, r: 8, p: 2 });
    expect(strong).toContain('$scrypt$N=2048,r=8,p=2$');
    expect(await verifyPassword('pw', strong)).toBe(true);
    expect(needsRehash(await hashPassword('pw', FAST))).toBe(true);
    expect(needsRehash(await hashPassword('pw', DEFAULT_SCRYPT_PARAMS))).toBe(false);
  });

  it.each([
    ['plain text', 'hunter2', /malformed/],
    ['another scheme', '$7$C6..../....SodiumChloride$kBGj9fHznVYFQMEn/qDCfrDevf9YDtcDdKvEqHJLV8D', /malformed/],
    ['N not a power of two', '$scrypt$N=1000,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==', /power of two/],
    ['N too large for a small board', '$scrypt$N=1048576,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==', /MiB/],
    ['short salt', '$scrypt$N=1024,r=8,p=1$c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==', /salt/],
    ['trailing space', '$scrypt$N=1024,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA== ', /malformed/],
  ])('refuses a hash with %s', async (_name, encoded, message) => {
    const parsed = parsePasswordHash(encoded);
    expect('error' in parsed && parsed.error).toMatch(message);
    expect(await verifyPassword('anything', encoded)).toBe(false);
  });
});

describe('PasswordVerifier', () => {
  it('remembers a success so a reconnect does not run scrypt again', async () => {
    const verifier = new PasswordVerifier();
    const encoded = await hashPassword('pw', FAST);
    expect(await verifier.verify('dev1', Buffer.from('pw'), encoded)).toBe(true);
    expect(await verifier.verify('dev1', Buffer.from('pw'), encoded)).toBe(true);
    expect(verifier.scryptRuns).toBe(1);
  });

  it('shares one scrypt run between identical attempts of a reconnect storm', async () => {
    const verifier = new PasswordVerifier();
    const encoded = await hashPassword('pw', FAST);
    const results = await Promise.all(Array.from({ length: 20 }, () => verifier.verify('dev1', Buffer.from('pw'), encoded)));
    expect(results.every(Boolean)).toBe(true);
    expect(verifier.scryptRuns).toBe(1);
  });

  it('does not cache failures, and a changed hash misses the cache', async () => {
    const verifier = new PasswordVerifier();
    const encoded = await hashPassword('pw', FAST);
    expect(await verifier.verify('dev1', Buffer.from('wrong'), encoded)).toBe(false);
    expect(await verifier.verify('dev1', Buffer.from('wrong'), encoded)).toBe(false);
    expect(verifier.scryptRuns).toBe(2);
    expect(await verifier.verify('dev1', Buffer.from('pw'), encoded)).toBe(true);
    const rotated = await hashPassword('new', FAST);
    expect(await verifier.verify('dev1', Buffer.from('pw'), rotated)).toBe(false);
    expect(await verifier.verify('dev1', Buffer.from('new'), rotated)).toBe(true);
  });

  it('keys the cache by user: the same password for another user is checked again', async () => {
    const verifier = new PasswordVerifier();
    const encoded = await hashPassword('pw', FAST);
    await verifier.verify('a', Buffer.from('pw'), encoded);
    await verifier.verify('b', Buffer.from('pw'), encoded);
    expect(verifier.scryptRuns).toBe(2);
  });

  it('spends scrypt time on unknown users too, so timing does not reveal who exists', async () => {
    const verifier = new PasswordVerifier();
    expect(await verifier.verify('nobody', Buffer.from('pw'), undefined)).toBe(false);
    expect(verifier.scryptRuns).toBe(1);
  });

  it('forgets the least recently used entry past its bound', async () => {
    const verifier = new PasswordVerifier({ maxCached: 2 });
    const encoded = await hashPassword('pw', FAST);
    for (const user of ['a', 'b', 'c']) await verifier.verify(user, Buffer.from('pw'), encoded);
    expect(verifier.cachedCount).toBe(2);
    await verifier.verify('a', Buffer.from('pw'), encoded);
    expect(verifier.scryptRuns).toBe(4);
  });
});
