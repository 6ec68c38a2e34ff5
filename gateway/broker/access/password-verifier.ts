/**
 * Checks CONNECT passwords against users-file hashes without letting a
 * reconnect storm (a hundred devices after a Wi-Fi blip) burn the CPU on
 * scrypt, or starve the libuv threadpool that the disk store also uses.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { hashPassword, verifyPassword } from './password-hash.js';

export interface PasswordVerifierOptions {
  /** Successful verifications remembered; least recently used go first. */
  readonly maxCached?: number;
  /** scrypt runs at once; the rest wait. Two fits a 2-core board and leaves threadpool slots for I/O. */
  readonly concurrency?: number;
}

export class PasswordVerifier {
  /**
   * The cache key holds an HMAC of the password under a per-process secret,
   * not a bare SHA-256: a heap dump then yields nothing that can be attacked
   * offline faster than the scrypt hashes themselves.
   */
  readonly #secret = randomBytes(32);
  /** key -> the encoded hash it verified against; a changed hash misses. */
  readonly #cache = new Map<string, string>();
  /** Identical attempts in flight share one scrypt run. */
  readonly #pending = new Map<string, Promise<boolean>>();
  readonly #maxCached: number;
  readonly #limit: Semaphore;
  #dummyHash: Promise<string> | undefined;
  #scryptRuns = 0;

  constructor(options: PasswordVerifierOptions = {}) {
    this.#maxCached = options.maxCached ?? 1024;
    this.#limit = new Semaphore(options.concurrency ?? 2);
  }

  /**
   * `encoded` undefined means no such user: a dummy hash is still checked so
   * the answer takes as long as for a real user and does not reveal which
   * usernames exist.
   */
  async verify(username: string, password: Buffer, encoded: string | undefined): Promise<boolean> {
    if (encoded === undefined) {
      await this.#run(password, await this.#dummy());
      return false;
    }
    const key = this.#key(username, password);
    const cached = this.#cache.get(key);
    if (cached === encoded) {
      this.#cache.delete(key);
      this.#cache.set(key, encoded);
      return true;
    }
    const pendingKey = `${key}\0${encoded}`;
    let pending = this.#pending.get(pendingKey);
    if (!pending) {
      pending = this.#run(password, encoded).finally(() => this.#pending.delete(pendingKey));
      this.#pending.set(pendingKey, pending);
    }
    const ok = await pending;
    // Failures are not cached: an attacker could otherwise fill the cache with guesses.
    if (ok) this.#remember(key, encoded);
    return ok;
  }

  /** How many scrypt derivations ran; tests and /metrics read it. */
  get scryptRuns(): number {
    return this.#scryptRuns;
  }

  get cachedCount(): number {
    return this.#cache.size;
  }

  clear(): void {
    this.#cache.clear();
  }

  async #run(password: Buffer, encoded: string): Promise<boolean> {
    const release = await this.#limit.acquire();
    try {
      this.#scryptRuns++;
      return await verifyPassword(password, encoded);
    } finally {
      release();
    }
  }

  #remember(key: string, encoded: string): void {
    this.#cache.delete(key);
    this.#cache.set(key, encoded);
    while (this.#cache.size > this.#maxCached) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#cache.delete(oldest);
    }
  }

  #key(username: string, password: Buffer): string {
    // The HMAC has a fixed length, so `user\0mac` cannot collide across usernames.
    return `${username}\0${createHmac('sha256', this.#secret).update(password).digest('base64')}`;
  }

  #dummy(): Promise<string> {
    this.#dummyHash ??= hashPassword(randomBytes(16));
    return this.#dummyHash;
  }
}

class Semaphore {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#free = Math.max(1, size);
  }

  async acquire(): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      // Hand the slot straight to the next waiter so a newcomer cannot jump the queue.
      if (next) next();
      else this.#free++;
    };
  }
}
