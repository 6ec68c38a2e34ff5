/** What the runner needs of a transport: send, drop on command, come back, stop. */
import type { Outgoing } from '../fleet/device.js';

/** Why a send did not get through; the code feeds the error counts. */
export interface SendFailure {
  readonly code: 'OFFLINE_DROPPED' | 'PUBLISH_FAILED' | 'WRITE_FAILED' | 'LINK_DOWN' | 'STOPPED';
  readonly message: string;
}

export type SendDone = (failure?: SendFailure) => void;

export interface LinkEvents {
  connected(link: Link, reconnect: boolean): void;
  disconnected(link: Link, reason: string): void;
  error(link: Link, code: string, message: string): void;
}

export interface Link {
  readonly name: string;
  readonly kind: 'mqtt' | 'serial' | 'gpio' | 'capture';
  readonly connected: boolean;
  /** Resolves after the first attempt, connected or not: a broker that is down is retried, not fatal. */
  start(): Promise<void>;
  send(out: Outgoing, done: SendDone): void;
  /** The network goes away until `up()`: no reconnect in between. */
  down(): void;
  up(): void;
  /** Graceful: death messages, then close. */
  stop(): Promise<void>;
}
