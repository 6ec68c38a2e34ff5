/**
 * The decisions aedes leaves to the embedding application, as ordered steps.
 * Each step cites the MQTT 3.1.1 statement it enforces.
 */
import type { AedesOptions, AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import type { Logger } from 'pino';
import type { AccessControl } from './access/access-control.js';
import type { Metrics } from '../metrics/metrics.js';
import type { WeirAedes } from './weir-aedes.js';
import { identityOf, rememberUsername } from './client-identity.js';

/** Called for every authorized client publish; the PUBACK/PUBREC waits on its promise. */
export type ClientPublishHandler = (packet: PublishPacket, client: Client) => void | Promise<void>;

export interface HookOptions {
  readonly access: AccessControl;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly maxClientIdLength: number;
  /** Seconds; 0 = any keepalive the client asks for. */
  readonly keepaliveLimit: number;
  readonly onClientPublish: ClientPublishHandler;
  readonly broker: () => WeirAedes;
}

const IDENTIFIER_REJECTED = 2;
const BAD_CREDENTIALS = 4;
const NOT_AUTHORIZED = 5;

function refuse(returnCode: 2 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode });
}

export function brokerHooks(o: HookOptions): Pick<AedesOptions, 'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'> {
  return {
    preConnect(_client, packet, callback) {
      // The Server is allowed to disconnect a Client it determines to be inactive,
      // regardless of the Keep Alive the Client asked for [MQTT-3.1.2-24, 3.1.2.10].
      // Capping the value aedes enforces keeps 3.1.1 clients connected, where
      // aedes' own keepaliveLimit answers with return code 6, which 3.1.1 reserves.
      const asked = packet.keepalive ?? 0;
      if (o.keepaliveLimit > 0 && (asked === 0 || asked > o.keepaliveLimit)) {
        packet.keepalive = o.keepaliveLimit;
        o.metrics.limitHits.inc({ limit: 'keepalive' });
      }
      callback(null, true);
    },

    authenticate(client, username, password, done) {
      // [MQTT-3.1.3-5] the Server MAY allow ClientIds longer than 23 bytes; beyond
      // our configured maximum it MUST answer 0x02 Identifier rejected [MQTT-3.1.3-9].
      if (Buffer.byteLength(client.id) > o.maxClientIdLength) {
        o.metrics.limitHits.inc({ limit: 'client-id-length' });
        return done(refuse(IDENTIFIER_REJECTED, 'client identifier too long'), false);
      }
      const identity = { ...identityOf(client), username };
      o.access.authenticate(identity, password).then(
        (outcome) => {
          if (outcome.ok) {
            rememberUsername(client, outcome.username);
            return done(null, true);
          }
          o.metrics.authFailures.inc({ reason: outcome.reason });
          o.log.warn({ clientId: client.id, remoteAddress: identity.remoteAddress, reason: outcome.reason }, 'Refused an MQTT connection.');
          // [MQTT-3.2.2-5] a non-zero CONNACK return code is followed by closing the connection (aedes does)
          done(refuse(outcome.reason === 'bad-credentials' ? BAD_CREDENTIALS : NOT_AUTHORIZED, outcome.reason), false);
        },
        (error: unknown) => {
          o.log.error({ err: error, clientId: client.id }, 'Authentication failed with an internal error.');
          done(refuse(NOT_AUTHORIZED, 'authentication error'), false);
        },
      );
    },

    authorizePublish(client, packet, callback) {
      // A will published after its client is gone comes with no client; it was checked when stored.
      if (!client) return callback(null);
      if (!o.access.canPublish(identityOf(client), packet.topic)) {
        o.metrics.aclDenied.inc({ action: 'publish' });
        o.log.debug({ clientId: client.id, topic: packet.topic }, 'Dropped a publish the ACL does not allow.');
        // [MQTT-3.3.5-2] acknowledge normally, then drop (see weir-aedes.ts)
        o.broker().dropAfterAck(packet);
        return callback(null);
      }
      let pending: void | Promise<void>;
      try {
        pending = o.onClientPublish(packet, client);
      } catch (error) {
        // ingestion never throws into a socket callback; treat a bug here as logged, not fatal
        o.log.error({ err: error, topic: packet.topic }, 'Ingestion failed on a publish.');
        return callback(null);
      }
      if (pending === undefined) return callback(null);
      // The acknowledgement to the device waits until weir holds the data.
      pending.then(
        () => callback(null),
        (error: unknown) => {
          o.log.error({ err: error, topic: packet.topic }, 'Could not accept a publish; the client will resend it.');
          callback(error instanceof Error ? error : new Error(String(error)));
        },
      );
    },

    authorizeSubscribe(client, subscription: Subscription, callback) {
      if (!o.access.canSubscribe(identityOf(client), subscription.topic)) {
        o.metrics.aclDenied.inc({ action: 'subscribe' });
        o.log.debug({ clientId: client.id, filter: subscription.topic }, 'Refused a subscription the ACL does not allow.');
        // [MQTT-3.9.3-2] a null subscription makes aedes answer SUBACK 0x80 Failure for it
        return callback(null, null);
      }
      callback(null, subscription);
    },
  };
}
