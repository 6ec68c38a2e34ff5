/**
 * Durable state for the embedded aedes broker: retained messages, persistent sessions and the
 * QoS 1/2 queues of clients that connected with clean: false, kept in one classic-level (LevelDB)
 * directory. The broker wiring opens this before the broker, passes `brokerId` as the aedes `id`,
 * and calls `close()` after `broker.close()` has called back.
 */
import { ClassicLevel } from 'classic-level';
import AsyncLevelPersistence from 'aedes-persistence-level/asyncPersistence.js';
import { decodeQueued, inflightKey, queueKey, queueRange } from './persistence-keys.js';
import { DropTombstones } from './persistence-tombstones.js';
import { KeyedGate } from './persistence-gate.js';

type QueuedPacket = AsyncLevelPersistence.QueuedPacket;
type ClientRef = AsyncLevelPersistence.ClientRef;
type SubRef = AsyncLevelPersistence.SubRef;

export interface BrokerPersistenceOptions {
  readonly dir: string;
  /** Queue entries per client (offline backlog plus unacknowledged in-flight) before the oldest is dropped. */
  readonly maxQueuedPerClient: number;
  /** Called once per dropped message; runs inside the publish path, so it must not throw. */
  readonly onQueueDrop?: (clientId: string) => void;
}

// 'weir-meta:' sorts outside every aedes-persistence-level prefix range, so none of its scans see it.
const BOOT_SEQ_KEY = 'weir-meta:boot-seq';
const COUNTER_CEILING_KEY = 'weir-meta:counter-ceiling';
// One store write per this many broker packets keeps the ceiling ahead of every queued counter.
const CEILING_STEP = 100_000;
const noop = (): void => {};

interface QueueCount {
  /** Entries on disk for this client. */
  stored: number;
  /** Enqueues under way on the shared path, each holding a slot under the cap. */
  reserved: number;
}

/** Use openBrokerPersistence; the constructor expects an already opened database. */
export class BrokerPersistence extends AsyncLevelPersistence {
  /**
   * Pass as aedes' `id`. Queue keys sort by broker id, then counter; these ids sort by boot, so a
   * queue replays oldest first across restarts. A fixed id keeps that order too (see setup), but
   * aedes then treats the crashed run's stored wills as its own and never publishes them.
   */
  readonly brokerId: string;
  readonly dir: string;
  #db: ClassicLevel<string, Buffer>;
  #max: number;
  #onQueueDrop: ((clientId: string) => void) | undefined;
  // Rebuilt from the store on a client's first enqueue after open. Kept at 0 too: a recount is a
  // range scan over LevelDB's delete markers. Clean clients never enqueue and get no entry.
  #counts = new Map<string, QueueCount>();
  // Drop-oldest and count loading run alone per client; everything else stays concurrent.
  #gate = new KeyedGate();
  #tombstones = new DropTombstones(256);
  #ceiling: number;
  #raising: Promise<void> | undefined;

  constructor(db: ClassicLevel<string, Buffer>, opts: BrokerPersistenceOptions, boot: StoreBoot) {
    super(db);
    this.#db = db;
    this.#max = opts.maxQueuedPerClient;
    this.#onQueueDrop = opts.onQueueDrop;
    this.#ceiling = boot.counterCeiling;
    this.brokerId = boot.brokerId;
    this.dir = opts.dir;
  }

  // aedes restarts its packet counter at 0. Under a broker id reused across restarts, new queue
  // keys would then overwrite the previous run's queued messages and sort before them.
  override async setup(broker: AsyncLevelPersistence.BrokerRef): Promise<void> {
    broker.counter = Math.max(broker.counter, this.#ceiling);
    await super.setup(broker);
  }

  override async outgoingEnqueueCombi(subs: SubRef[] | undefined, packet: QueuedPacket): Promise<void> {
    if (subs === undefined || subs.length === 0) return;
    // Overlapping filters of one client ('a/#' and 'a/b') both match, but share one queue key.
    const clientIds = new Set(subs.map((sub) => sub.clientId));
    await Promise.all([...clientIds].map((clientId) => this.outgoingEnqueue({ clientId }, packet)));
  }

  override async outgoingEnqueue(sub: SubRef, packet: QueuedPacket): Promise<void> {
    const clientId = sub.clientId;
    await this.#coverCounter(packet.brokerCounter ?? 0);
    const enqueued = await this.#gate.shared(clientId, async () => {
      const count = this.#counts.get(clientId);
      if (count === undefined || count.stored + count.reserved >= this.#max) return false;
      count.reserved++;
      try {
        await this.#store(sub, packet, count);
      } finally {
        count.reserved--;
      }
      return true;
    });
    if (!enqueued) await this.#gate.exclusive(clientId, () => this.#enqueueAtCap(sub, packet));
  }

  override outgoingUpdate(client: ClientRef, packet: QueuedPacket): Promise<void> {
    return this.#gate.shared(client.id, async () => {
      try {
        await super.outgoingUpdate(client, packet);
      } catch (err) {
        if (!this.#forgive(client.id, packet)) throw err;
      }
    });
  }

  override outgoingClearMessageId(
    client: ClientRef,
    packet: { messageId?: number | null | undefined },
  ): Promise<QueuedPacket | undefined> {
    return this.#gate.shared(client.id, async () => {
      const cleared = await super.outgoingClearMessageId(client, packet);
      const count = this.#counts.get(client.id);
      if (cleared !== undefined) {
        if (count !== undefined) count.stored = Math.max(0, count.stored - 1);
      } else if (typeof packet?.messageId === 'number') {
        this.#tombstones.forget(client.id, `m:${packet.messageId}`);
      }
      return cleared;
    });
  }

  /** Waits for queue bookkeeping in flight, then closes the database; the directory can be reopened. */
  async close(): Promise<void> {
    await this.#gate.settled();
    await this.#db.close();
  }

  override destroy(): Promise<void> {
    return this.close();
  }

  async #store(sub: SubRef, packet: QueuedPacket, count: QueueCount): Promise<void> {
    // Re-enqueueing a packet overwrites its key, so only a new key adds to the count.
    const isNew = !(await this.#db.has(queueKey(sub.clientId, packet)));
    await super.outgoingEnqueue(sub, packet);
    if (isNew) count.stored++;
  }

  async #enqueueAtCap(sub: SubRef, packet: QueuedPacket): Promise<void> {
    const clientId = sub.clientId;
    let count = this.#counts.get(clientId);
    if (count === undefined) {
      count = { stored: await this.#countQueued(clientId), reserved: 0 };
      this.#counts.set(clientId, count);
    }
    // Drop-oldest: a gateway queue holds telemetry, where the latest reading supersedes the
    // earlier ones; refusing new messages instead would freeze the client on stale state.
    const isNew = !(await this.#db.has(queueKey(clientId, packet)));
    while (isNew && count.stored >= this.#max) {
      if (!(await this.#dropOldest(clientId))) {
        count.stored = await this.#countQueued(clientId);
        break;
      }
      count.stored--;
      this.#onQueueDrop?.(clientId);
    }
    await this.#store(sub, packet, count);
  }

  async #coverCounter(counter: number): Promise<void> {
    while (counter >= this.#ceiling) {
      this.#raising ??= this.#raiseCeiling(counter).finally(() => (this.#raising = undefined));
      await this.#raising;
    }
  }

  async #raiseCeiling(counter: number): Promise<void> {
    const ceiling = counter + CEILING_STEP;
    await this.#db.put(COUNTER_CEILING_KEY, Buffer.from(String(ceiling)));
    this.#ceiling = ceiling;
  }

  async #countQueued(clientId: string): Promise<number> {
    let count = 0;
    for await (const _key of this.#db.keys(queueRange(clientId))) count++;
    return count;
  }

  async #dropOldest(clientId: string): Promise<boolean> {
    for await (const [key, blob] of this.#db.iterator(queueRange(clientId))) {
      const packet = decodeQueued(blob);
      // A queued PUBREL finishes a QoS 2 exchange the client already holds; dropping it would
      // strand that packet id on the client, and it carries no reading worth the space.
      if (packet.cmd !== 'publish') continue;
      const ops: Array<{ type: 'del'; key: string }> = [{ type: 'del', key }];
      if (typeof packet.messageId === 'number') {
        const idKey = inflightKey(clientId, packet.messageId);
        const indexed = await this.#db.get(idKey);
        // outgoingUpdate writes both keys from one packet, so equal bytes mean the index is ours.
        if (indexed !== undefined && indexed.equals(blob)) {
          ops.push({ type: 'del', key: idKey });
          this.#tombstones.remember(clientId, `m:${packet.messageId}`);
        }
      }
      await this.#db.batch(ops);
      this.#tombstones.remember(clientId, `p:${packet.brokerId}:${packet.brokerCounter}`);
      return true;
    }
    return false;
  }

  // aedes re-reads a queued packet right before writing it and disconnects the client when it is
  // gone. After a drop that miss is expected: the live copy may still go out, it just isn't durable.
  #forgive(clientId: string, packet: QueuedPacket): boolean {
    if (packet.brokerId !== undefined) {
      if (!this.#tombstones.forget(clientId, `p:${packet.brokerId}:${packet.brokerCounter}`)) return false;
      if (typeof packet.messageId === 'number') this.#tombstones.remember(clientId, `m:${packet.messageId}`);
      return true;
    }
    // A PUBREC for a dropped QoS 2 message still gets its PUBREL.
    return typeof packet.messageId === 'number' && this.#tombstones.forget(clientId, `m:${packet.messageId}`);
  }
}

export async function openBrokerPersistence(opts: BrokerPersistenceOptions): Promise<BrokerPersistence> {
  if (!Number.isSafeInteger(opts.maxQueuedPerClient) || opts.maxQueuedPerClient < 1) {
    throw new RangeError(`maxQueuedPerClient must be a positive integer, got ${opts.maxQueuedPerClient}`);
  }
  let db: ClassicLevel<string, Buffer> | undefined;
  try {
    // Broker state is small (sessions, retained, queues): LevelDB's default 8 MiB block
    // cache and 4 MiB write buffer would be a sixth of weir's memory on a 1 GB board.
    db = new ClassicLevel<string, Buffer>(opts.dir, { valueEncoding: 'buffer', cacheSize: 1 << 20, writeBufferSize: 1 << 20 });
    await db.open();
    return new BrokerPersistence(db, opts, await bootStore(db));
  } catch (err) {
    await db?.close().catch(noop);
    throw new Error(`cannot open the broker persistence store at ${opts.dir}: ${rootCause(err)}`, { cause: err });
  }
}

interface StoreBoot {
  readonly brokerId: string;
  readonly counterCeiling: number;
}

// Boots are counted in the store, not read off the clock: edge boards often start without an RTC.
async function bootStore(db: ClassicLevel<string, Buffer>): Promise<StoreBoot> {
  const seq = (await readNumber(db, BOOT_SEQ_KEY)) + 1;
  await db.put(BOOT_SEQ_KEY, Buffer.from(String(seq)));
  return { brokerId: `weir-${String(seq).padStart(10, '0')}`, counterCeiling: await readNumber(db, COUNTER_CEILING_KEY) };
}

async function readNumber(db: ClassicLevel<string, Buffer>, key: string): Promise<number> {
  const blob = await db.get(key);
  return blob === undefined ? 0 : Number.parseInt(blob.toString(), 10);
}

// classic-level reports LEVEL_DATABASE_NOT_OPEN and hides the useful part (locked, EACCES) in `cause`.
function rootCause(err: unknown): string {
  let current = err;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  if (!(current instanceof Error)) return String(current);
  const code = (current as { code?: unknown }).code;
  return typeof code === 'string' && !current.message.includes(code) ? `${current.message} (${code})` : current.message;
}
