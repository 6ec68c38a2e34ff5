/**
 * Who is on the other end of a broker connection. The remote address is taken
 * when the socket is accepted (TCP, TLS, or the HTTP upgrade of a WebSocket),
 * because aedes' stream for a WebSocket does not carry one.
 */
import type { Client } from 'aedes';
import type { ClientIdentity } from './access/access-control.js';

const remoteByConn = new WeakMap<object, string | undefined>();
const usernameByClient = new WeakMap<Client, string | undefined>();

export function rememberRemoteAddress(conn: object, address: string | undefined): void {
  remoteByConn.set(conn, address);
}

export function rememberUsername(client: Client, username: string | undefined): void {
  usernameByClient.set(client, username);
}

export function identityOf(client: Client): ClientIdentity {
  return {
    clientId: client.id,
    username: usernameByClient.get(client),
    remoteAddress: remoteByConn.get(client.conn as object),
  };
}
