/**
 * Salted scrypt password hashes in a self-describing string:
 *
 *   $scrypt$N=16384,r=8,p=1$<salt base64>$<hash base64>
 *
 * The parameters travel with each hash, so the default can be raised later and
 * old entries keep verifying until `weir users add` rewrites them.
 *
 * Why N=2^14, r=8, p=1 (16 MiB per verification): it is the scrypt paper's
 * interactive-login setting and Node's default. It measured ~45 ms on an x86
 * core and is roughly 150-200 ms on a Raspberry Pi 4 core, which a connecting
 * device pays once per process lifetime thanks to the cache in
 * password-verifier.ts. N=2^15 doubles both time and memory and was judged
 * too slow for a Pi Zero serving a reconnect storm.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  /** Block size. */
  readonly r: number;
  /** Parallelism. */
  readonly p: number;
}

export const DEFAULT_SCRYPT_PARAMS: ScryptParams = Object.freeze({ N: 16384, r: 8, p: 1 });

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/**
 * A users file is trusted input, but a typo (N=1638400) must not let one
 * CONNECT allocate gigabytes on a small board; such a hash is a parse error.
 */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;

export interface ParsedHash {
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly key: Buffer;
}

const HASH_PATTERN = /^\$scrypt\$N=(\d{1,8}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

/** Parses an encoded hash; returns a reason instead of throwing so files can report line numbers. */
export function parsePasswordHash(encoded: string): ParsedHash | { readonly error: string } {
  const m = HASH_PATTERN.exec(encoded);
  if (!m) return { error: 'malformed password hash (expected $scrypt$N=..,r=..,p=..$salt$hash)' };
  const params = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  const paramError = checkParams(params);
  if (paramError) return { error: paramError };
  const salt = Buffer.from(m[4]!, 'base64');
  const key = Buffer.from(m[5]!, 'base64');
  if (salt.length < 8) return { error: 'password hash salt is shorter than 8 bytes' };
  if (key.length < 16) return { error: 'password hash is shorter than 16 bytes' };
  return { params, salt, key };
}

function checkParams({ N, r, p }: ScryptParams): string | undefined {
  if (N < 2 || (N & (N - 1)) !== 0) return `scrypt N=${N} is not a power of two above 1`;
  if (r < 1 || p < 1) return 'scrypt r and p must be at least 1';
  if (scryptMemory({ N, r, p }) > MAX_SCRYPT_MEMORY) return `scrypt N=${N},r=${r} needs more than ${MAX_SCRYPT_MEMORY >> 20} MiB`;
  return undefined;
}

/** Bytes scrypt allocates: 128*N*r for V plus 128*r*p for B; Node's maxmem must exceed it. */
function scryptMemory({ N, r, p }: ScryptParams): number {
  return 128 * N * r + 128 * r * p;
}

function deriveKey(password: Buffer, salt: Buffer, length: number, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: scryptMemory(params) + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, length, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string | Buffer, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  const paramError = checkParams(params);
  if (paramError) throw new RangeError(paramError);
  const salt = randomBytes(SALT_BYTES);
  const key = await deriveKey(toBuffer(password), salt, KEY_BYTES, params);
  return `$scrypt$N=${params.N},r=${params.r},p=${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** False for a wrong password and for an unparseable hash; never throws on bad input. */
export async function verifyPassword(password: string | Buffer, encoded: string): Promise<boolean> {
  const parsed = parsePasswordHash(encoded);
  if ('error' in parsed) return false;
  const key = await deriveKey(toBuffer(password), parsed.salt, parsed.key.length, parsed.params);
  // Constant-time so the comparison leaks nothing about how many bytes matched.
  return timingSafeEqual(key, parsed.key);
}

/** True when a hash was made with weaker parameters than `params`, so `weir users add` should redo it. */
export function needsRehash(encoded: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): boolean {
  const parsed = parsePasswordHash(encoded);
  if ('error' in parsed) return true;
  return parsed.params.N < params.N || parsed.params.r < params.r || parsed.params.p < params.p;
}

function toBuffer(password: string | Buffer): Buffer {
  return typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
}
