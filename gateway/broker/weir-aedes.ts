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
  // aedes acknowledges a QoS 1 publish before it stores it for offline
  // sessions; a shutdown must wait for those stores or it loses acked messages
  #inflight = 0;
  #idle: (() => void)[] = [];

  constructor(options: AedesOptions) {
    super(options);
  }

  /** Marks a packet, during authorizePublish, to be acknowledged but not routed. */
  dropAfterAck(packet: PublishPacket): void {
    this.#dropped.add(packet);
  }

  override publish(packet: PublishPacket, clientOrDone: unknown, done?: unknown): void {
    const client = typeof clientOrDone === 'function' ? null : clientOrDone;
    const cb = (typeof clientOrDone === 'function' ? clientOrDone : done) as ((e?: Error) => void) | undefined;
    if (this.#dropped.has(packet)) return cb?.();
    if (packet.qos === 0) return this.#super(packet, client, cb);
    this.#inflight++;
    const finish = (e?: Error) => {
      if (--this.#inflight === 0) for (const resolve of this.#idle.splice(0)) resolve();
      cb?.(e);
    };
    this.#super(packet, client, finish);
  }

  #super(packet: PublishPacket, client: unknown, done: ((e?: Error) => void) | undefined): void {
    // aedes' runtime signature is publish(packet, client?, done); its typings omit the client
    (Aedes.prototype.publish as unknown as (p: PublishPacket, c: unknown, d: unknown) => void).call(this, packet, client, done);
  }

  /** Resolves once every publish in progress has been routed and stored (or after `timeoutMs`). */
  settled(timeoutMs: number): Promise<void> {
    if (this.#inflight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#idle.push(() => (clearTimeout(timer), resolve()));
    });
  }
}

export type { Client };
