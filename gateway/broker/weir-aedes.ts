/**
 * aedes with one addition: a publish the ACL refused is acknowledged and then
 * dropped. MQTT 3.1.1 lets a server either acknowledge an unauthorized PUBLISH
 * normally or close the connection [MQTT-3.3.5-2]; aedes only knows how to
 * close. Dropping keeps a misconfigured sensor connected (it keeps sending its
 * permitted topics) and matches what Mosquitto users expect.
 */
import { Aedes, type AedesOptions, type Client, type PublishPacket } from 'aedes';

export class WeirAedes extends Aedes {
  readonly #dropped = new WeakSet<object>();

  constructor(options: AedesOptions) {
    super(options);
  }

  /** Marks a packet, during authorizePublish, to be acknowledged but not routed. */
  dropAfterAck(packet: PublishPacket): void {
    this.#dropped.add(packet);
  }

  override publish(packet: PublishPacket, clientOrDone: unknown, done?: unknown): void {
    if (this.#dropped.has(packet)) {
      const cb = (typeof clientOrDone === 'function' ? clientOrDone : done) as ((e?: Error) => void) | undefined;
      cb?.();
      return;
    }
    // aedes' runtime signature is publish(packet, client?, done); its typings omit the client
    (Aedes.prototype.publish as unknown as (p: PublishPacket, c: unknown, d: unknown) => void).call(this, packet, clientOrDone, done);
  }
}

export type { Client };
