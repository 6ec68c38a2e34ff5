/**
 * What the embedded broker asks before it admits a client, a publish or a
 * subscription. The broker wiring (../broker.ts) calls this; the users file,
 * password hashing and ACL rules behind it live beside this file.
 */
export interface ClientIdentity {
  readonly clientId: string;
  /** Undefined for anonymous clients. */
  readonly username: string | undefined;
  /** Remote address of the socket, e.g. `127.0.0.1`, `::1`, `::ffff:10.0.0.5`. */
  readonly remoteAddress: string | undefined;
}

export type AuthOutcome =
  | { readonly ok: true; readonly username: string | undefined }
  | { readonly ok: false; readonly reason: 'bad-credentials' | 'anonymous-not-allowed' };

export interface AccessControl {
  authenticate(identity: ClientIdentity, password: Buffer | undefined): Promise<AuthOutcome>;
  canPublish(identity: ClientIdentity, topic: string): boolean;
  canSubscribe(identity: ClientIdentity, filter: string): boolean;
  /** Re-reads the users file (SIGHUP); keeps the old set if the new file is invalid. */
  reload(): Promise<void>;
}
