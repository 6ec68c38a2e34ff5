// aedes-persistence-level ships no types. This covers the async class that aedes 1.x drives;
// shapes stay loose where aedes itself passes loosely-typed objects.
declare module 'aedes-persistence-level/asyncPersistence.js' {
  import type { Readable } from 'node:stream';
  import type { ClassicLevel } from 'classic-level';

  namespace AsyncLevelPersistence {
    interface QueuedPacket {
      cmd: string;
      topic?: string;
      payload?: Buffer | Uint8Array | string;
      qos?: number;
      retain?: boolean;
      dup?: boolean;
      brokerId?: string;
      brokerCounter?: number;
      messageId?: number | null;
      [field: string]: unknown;
    }
    interface Subscription {
      topic: string;
      qos: number;
      clientId?: string;
      rh?: number;
      rap?: boolean;
      nl?: boolean;
    }
    interface ClientRef {
      id: string;
    }
    interface SubRef {
      clientId: string;
    }
    interface BrokerRef {
      id: string;
      counter: number;
    }
  }

  class AsyncLevelPersistence {
    constructor(db: ClassicLevel<string, Buffer>);
    get broker(): AsyncLevelPersistence.BrokerRef | undefined;
    setup(broker: AsyncLevelPersistence.BrokerRef): Promise<void>;
    storeRetained(packet: AsyncLevelPersistence.QueuedPacket): Promise<void>;
    createRetainedStream(pattern: string): Readable;
    createRetainedStreamCombi(patterns: string[]): Readable;
    addSubscriptions(
      client: AsyncLevelPersistence.ClientRef,
      subs: AsyncLevelPersistence.Subscription[],
    ): Promise<void>;
    removeSubscriptions(client: AsyncLevelPersistence.ClientRef, topics: string[]): Promise<void>;
    subscriptionsByClient(client: AsyncLevelPersistence.ClientRef): Promise<AsyncLevelPersistence.Subscription[]>;
    countOffline(): Promise<{ subsCount: number; clientsCount: number }>;
    subscriptionsByTopic(pattern: string): Promise<AsyncLevelPersistence.Subscription[]>;
    cleanSubscriptions(client: AsyncLevelPersistence.ClientRef): Promise<void>;
    outgoingEnqueue(sub: AsyncLevelPersistence.SubRef, packet: AsyncLevelPersistence.QueuedPacket): Promise<void>;
    outgoingEnqueueCombi(
      subs: AsyncLevelPersistence.SubRef[] | undefined,
      packet: AsyncLevelPersistence.QueuedPacket,
    ): Promise<unknown>;
    outgoingUpdate(client: AsyncLevelPersistence.ClientRef, packet: AsyncLevelPersistence.QueuedPacket): Promise<void>;
    outgoingClearMessageId(
      client: AsyncLevelPersistence.ClientRef,
      packet: { messageId?: number | null | undefined },
    ): Promise<AsyncLevelPersistence.QueuedPacket | undefined>;
    outgoingStream(client: AsyncLevelPersistence.ClientRef): Readable;
    incomingStorePacket(client: AsyncLevelPersistence.ClientRef, packet: AsyncLevelPersistence.QueuedPacket): Promise<void>;
    incomingGetPacket(
      client: AsyncLevelPersistence.ClientRef,
      packet: { messageId?: number },
    ): Promise<AsyncLevelPersistence.QueuedPacket>;
    incomingDelPacket(client: AsyncLevelPersistence.ClientRef, packet: { messageId?: number }): Promise<void>;
    /** Present since 9.2.0; aedes calls it on a clean-session CONNECT [MQTT-3.1.2-6]. */
    cleanIncoming(client: AsyncLevelPersistence.ClientRef): Promise<void>;
    putWill(client: AsyncLevelPersistence.ClientRef, packet: AsyncLevelPersistence.QueuedPacket): Promise<void>;
    getWill(client: AsyncLevelPersistence.ClientRef): Promise<AsyncLevelPersistence.QueuedPacket | undefined>;
    delWill(client: AsyncLevelPersistence.ClientRef): Promise<AsyncLevelPersistence.QueuedPacket | undefined>;
    streamWill(brokers?: Record<string, number>): Readable;
    getClientList(topic: string): Readable;
    /** Closes the level database it was given; it does not delete anything. */
    destroy(): Promise<void>;
  }

  export = AsyncLevelPersistence;
}
