import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { openBrokerPersistence, type BrokerPersistence } from '../gateway/broker/persistence.js';
import { KeyedGate } from '../gateway/broker/persistence-gate.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-broker-persistence-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function open(dir: string, maxQueuedPerClient = 100, drops: string[] = []): Promise<BrokerPersistence> {
  const persistence = await openBrokerPersistence({ dir, maxQueuedPerClient, onQueueDrop: (id) => drops.push(id) });
  cleanups.push(() => persistence.close());
  return persistence;
}

async function collect(stream: AsyncIterable<unknown>): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  for await (const item of stream) out.push(item as Record<string, unknown>);
  return out;
}

let counter = 0;
function publishPacket(topic: string, payload: string, brokerId = 'broker-1') {
  return { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false, brokerId, brokerCounter: ++counter };
}

describe('keyed gate', () => {
  it('runs shared operations together and an exclusive one alone, before later shared ones', async () => {
    const gate = new KeyedGate();
    const log: string[] = [];
    const step = (name: string, ms: number) => async () => {
      log.push(`${name}+`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`${name}-`);
    };
    await Promise.all([
      gate.shared('k', step('a', 20)),
      gate.shared('k', step('b', 5)),
      gate.exclusive('k', step('x', 5)),
      gate.shared('k', step('c', 1)),
      gate.shared('other', step('o', 1)),
    ]);
    expect(log.slice(0, 3)).toEqual(['a+', 'b+', 'o+']);
    expect(log.indexOf('x+')).toBeGreaterThan(log.indexOf('a-'));
    expect(log.indexOf('x-') + 1).toBe(log.indexOf('c+'));
  });
});

describe('broker persistence store', () => {
  it('drops the oldest queued message past the cap and reports each drop', async () => {
    const drops: string[] = [];
    const store = await open(await tempDir(), 3, drops);
    await store.setup({ id: 'broker-1', counter: 0 });
    for (const n of [1, 2, 3, 4, 5]) await store.outgoingEnqueueCombi([{ clientId: 'sink' }], publishPacket('t', `m${n}`));
    await store.outgoingEnqueue({ clientId: 'other' }, publishPacket('t', 'o1'));

    expect(drops).toEqual(['sink', 'sink']);
    const queued = await collect(store.outgoingStream({ id: 'sink' }));
    expect(queued.map((p) => String(p['payload']))).toEqual(['m3', 'm4', 'm5']);
    expect(await collect(store.outgoingStream({ id: 'other' }))).toHaveLength(1);
  });

  it('keeps an exact count when enqueues and acks for one client race', async () => {
    const drops: string[] = [];
    const store = await open(await tempDir(), 5, drops);
    await store.setup({ id: 'broker-1', counter: 0 });
    const packets = Array.from({ length: 20 }, (_, n) => publishPacket('t', `m${n}`));
    await store.outgoingEnqueue({ clientId: 'sink' }, packets[0]!);
    await store.outgoingUpdate({ id: 'sink' }, { ...packets[0]!, messageId: 1 });
    await Promise.all([
      ...packets.slice(1).map((p) => store.outgoingEnqueue({ clientId: 'sink' }, p)),
      store.outgoingClearMessageId({ id: 'sink' }, { messageId: 1 }),
    ]);
    const queued = await collect(store.outgoingStream({ id: 'sink' }));
    expect(queued).toHaveLength(5);
    expect(drops.length).toBe(20 - 5 - 1);

    // exactly at the cap now, so one more enqueue is one more drop
    await store.outgoingEnqueue({ clientId: 'sink' }, publishPacket('t', 'last'));
    expect(drops.length).toBe(20 - 5);
    expect(await collect(store.outgoingStream({ id: 'sink' }))).toHaveLength(5);
  });

  it('counts overlapping subscriptions of one client as one queued message', async () => {
    const drops: string[] = [];
    const store = await open(await tempDir(), 2, drops);
    await store.setup({ id: 'broker-1', counter: 0 });
    const packet = publishPacket('a/b', 'x');
    await store.outgoingEnqueueCombi([{ clientId: 'sink' }, { clientId: 'sink' }], packet);
    await store.outgoingEnqueueCombi([{ clientId: 'sink' }], publishPacket('a/b', 'y'));
    expect(drops).toEqual([]);
    expect(await collect(store.outgoingStream({ id: 'sink' }))).toHaveLength(2);
  });

  it('gives back retained messages, subscriptions and queued messages after a reopen', async () => {
    const dir = await tempDir();
    const first = await open(dir);
    await first.setup({ id: 'broker-1', counter: 0 });
    await first.storeRetained({ cmd: 'publish', topic: 'site/temp', payload: Buffer.from('21.5'), qos: 1, retain: true });
    await first.addSubscriptions({ id: 'sink' }, [{ topic: 'site/#', qos: 1 }]);
    await first.outgoingEnqueue({ clientId: 'sink' }, publishPacket('site/a', 'q1'));
    await first.outgoingEnqueue({ clientId: 'sink' }, publishPacket('site/b', 'q2'));
    await first.close();

    const second = await open(dir);
    await second.setup({ id: 'broker-2', counter: 0 });
    const retained = await collect(second.createRetainedStream('site/#'));
    expect(retained.map((p) => [p['topic'], String(p['payload'])])).toEqual([['site/temp', '21.5']]);
    expect(await second.subscriptionsByTopic('site/x')).toMatchObject([{ clientId: 'sink', topic: 'site/#', qos: 1 }]);
    expect(await second.subscriptionsByClient({ id: 'sink' })).toMatchObject([{ topic: 'site/#', qos: 1 }]);
    const queued = await collect(second.outgoingStream({ id: 'sink' }));
    expect(queued.map((p) => String(p['payload']))).toEqual(['q1', 'q2']);
  });

  it('rebuilds the queue count from the store after a reopen', async () => {
    const dir = await tempDir();
    const first = await open(dir, 3);
    await first.setup({ id: 'broker-1', counter: 0 });
    for (const n of [1, 2]) await first.outgoingEnqueue({ clientId: 'sink' }, publishPacket('t', `m${n}`));
    await first.close();

    const drops: string[] = [];
    const second = await open(dir, 3, drops);
    await second.setup({ id: 'broker-1', counter: 0 });
    for (const n of [3, 4]) await second.outgoingEnqueue({ clientId: 'sink' }, publishPacket('t', `m${n}`));
    expect(drops).toEqual(['sink']);
    const queued = await collect(second.outgoingStream({ id: 'sink' }));
    expect(queued.map((p) => String(p['payload']))).toEqual(['m2', 'm3', 'm4']);
  });

  // aedes restarts broker.counter at 0; under a fixed id the new keys collided with queued ones.
  it('does not overwrite queued messages when a fixed broker id restarts its counter', async () => {
    const dir = await tempDir();
    const first = await open(dir);
    const broker1 = { id: 'weir', counter: 0 };
    await first.setup(broker1);
    await first.outgoingEnqueue({ clientId: 'sink' }, publishPacket('t', 'before', 'weir'));
    await first.close();

    const second = await open(dir);
    const broker2 = { id: 'weir', counter: 0 };
    await second.setup(broker2);
    await second.outgoingEnqueue(
      { clientId: 'sink' },
      { cmd: 'publish', topic: 't', payload: Buffer.from('after'), qos: 1, brokerId: 'weir', brokerCounter: ++broker2.counter },
    );
    const queued = await collect(second.outgoingStream({ id: 'sink' }));
    expect(queued.map((p) => String(p['payload']))).toEqual(['before', 'after']);
  });

  it('hands out broker ids that sort in boot order', async () => {
    const dir = await tempDir();
    const ids: string[] = [];
    for (let boot = 0; boot < 11; boot++) {
      const store = await open(dir);
      ids.push(store.brokerId);
      await store.close();
    }
    expect(new Set(ids).size).toBe(11);
    expect([...ids].sort()).toEqual(ids);
  });

  it('forgives aedes re-reading a dropped in-flight message, and nothing else', async () => {
    const store = await open(await tempDir(), 2);
    await store.setup({ id: 'broker-1', counter: 0 });
    const inflight = publishPacket('t', 'm1');
    await store.outgoingEnqueue({ clientId: 'sink' }, inflight);
    await store.outgoingUpdate({ id: 'sink' }, { ...inflight, messageId: 7 });
    for (const n of [2, 3]) await store.outgoingEnqueue({ clientId: 'sink' }, publishPacket('t', `m${n}`));

    await expect(store.outgoingUpdate({ id: 'sink' }, { ...inflight, messageId: 7 })).resolves.toBeUndefined();
    expect(await store.outgoingClearMessageId({ id: 'sink' }, { messageId: 7 })).toBeUndefined();
    await expect(store.outgoingUpdate({ id: 'sink' }, { ...publishPacket('t', 'never queued'), messageId: 9 })).rejects.toThrow(
      'no such packet',
    );
    expect(await collect(store.outgoingStream({ id: 'sink' }))).toHaveLength(2);
  });

  it('keeps a queued PUBREL and drops the oldest publish instead', async () => {
    const drops: string[] = [];
    const store = await open(await tempDir(), 2, drops);
    await store.setup({ id: 'broker-1', counter: 0 });
    const qos2 = { ...publishPacket('t', 'm1'), qos: 2 };
    await store.outgoingEnqueue({ clientId: 'sink' }, qos2);
    await store.outgoingUpdate({ id: 'sink' }, { ...qos2, messageId: 5 });
    await store.outgoingUpdate({ id: 'sink' }, { cmd: 'pubrel', messageId: 5 });
    for (const n of [2, 3]) await store.outgoingEnqueue({ clientId: 'sink' }, publishPacket('t', `m${n}`));

    expect(drops).toEqual(['sink']);
    const queued = await collect(store.outgoingStream({ id: 'sink' }));
    expect(queued.map((p) => (p['cmd'] === 'pubrel' ? 'pubrel' : String(p['payload'])))).toEqual(['pubrel', 'm3']);
  });

  it('names the directory and the cause when the store is locked', async () => {
    const dir = await tempDir();
    await open(dir);
    const failure = openBrokerPersistence({ dir, maxQueuedPerClient: 10 });
    await expect(failure).rejects.toThrow(dir);
    await expect(failure).rejects.toThrow(/lock/i);
  });

  it('names the directory when the path cannot hold a store', async () => {
    const file = join(await tempDir(), 'not-a-dir');
    await writeFile(file, 'x');
    await expect(openBrokerPersistence({ dir: file, maxQueuedPerClient: 10 })).rejects.toThrow(file);
  });
});

interface RunningBroker {
  readonly port: number;
  readonly broker: Aedes;
  readonly persistence: BrokerPersistence;
  stop(): Promise<void>;
}

async function startBroker(dir: string, opts: { maxQueued?: number; drops?: string[]; fixedId?: string } = {}): Promise<RunningBroker> {
  const drops = opts.drops ?? [];
  const persistence = await openBrokerPersistence({
    dir,
    maxQueuedPerClient: opts.maxQueued ?? 100,
    onQueueDrop: (id) => drops.push(id),
  });
  const broker = new Aedes({ persistence, id: opts.fixedId ?? persistence.brokerId });
  await broker.listen();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await persistence.close();
  };
  cleanups.push(stop);
  return { port: (server.address() as net.AddressInfo).port, broker, persistence, stop };
}

function connect(port: number, opts: mqtt.IClientOptions = {}): MqttClient {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 2000, ...opts });
  cleanups.push(() => client.endAsync(true));
  return client;
}

async function connected(client: MqttClient): Promise<mqtt.IConnackPacket> {
  return new Promise((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
}

/**
 * aedes 1.2 sends the QoS 1 PUBACK before it enqueues for offline subscribers, so a PUBACK alone
 * does not mean the message is stored; its 'publish' event fires after the enqueue.
 */
async function publishAll(running: RunningBroker, topic: string, payloads: string[], opts: mqtt.IClientPublishOptions = { qos: 1 }) {
  let stored = 0;
  const storedAll = new Promise<void>((resolve) => {
    const onPublish = (packet: { topic: string }, client: unknown) => {
      if (client && packet.topic === topic && ++stored === payloads.length) {
        running.broker.off('publish', onPublish);
        resolve();
      }
    };
    running.broker.on('publish', onPublish);
  });
  const publisher = connect(running.port, { clientId: `pub-${Math.random().toString(16).slice(2)}` });
  await connected(publisher);
  for (const payload of payloads) await publisher.publishAsync(topic, payload, opts);
  await storedAll;
  await publisher.endAsync();
}

/** Subscribes a persistent-session client at QoS 1, then takes it offline and waits until the broker knows. */
async function subscribeThenLeave(running: RunningBroker, clientId: string, filter: string): Promise<void> {
  const client = connect(running.port, { clientId, clean: false });
  await connected(client);
  await client.subscribeAsync(filter, { qos: 1 });
  const gone = once(running.broker, 'clientDisconnect');
  await client.endAsync();
  await gone;
}

async function receive(client: MqttClient, count: number, quietMs = 150): Promise<string[]> {
  const got: string[] = [];
  client.on('message', (_topic, payload) => got.push(payload.toString()));
  const deadline = Date.now() + 3000;
  while (got.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  // a little longer, so a queue that sends too much is caught too
  await new Promise((r) => setTimeout(r, quietMs));
  return got;
}

const payloads = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `reading-${from + i}`);

describe('embedded aedes broker on the persistence store', () => {
  it('serves a retained message to a new subscriber after a restart', async () => {
    const dir = await tempDir();
    const first = await startBroker(dir);
    await publishAll(first, 'site/boiler/state', ['on'], { qos: 1, retain: true });
    await first.stop();

    const second = await startBroker(dir);
    const subscriber = connect(second.port);
    await connected(subscriber);
    const got = receive(subscriber, 1);
    await subscriber.subscribeAsync('site/#', { qos: 1 });
    expect(await got).toEqual(['on']);
  });

  for (const idChoice of ['brokerId', 'fixed'] as const) {
    const fixedId = idChoice === 'fixed' ? 'weir' : undefined;

    it(`delivers QoS 1 messages queued while offline, in order, after a restart (${idChoice} broker id)`, async () => {
      const dir = await tempDir();
      const first = await startBroker(dir, { ...(fixedId ? { fixedId } : {}) });
      await subscribeThenLeave(first, 'historian', 'plant/#');
      await publishAll(first, 'plant/line1/temp', payloads(0, 10));
      await first.stop();

      const second = await startBroker(dir, { ...(fixedId ? { fixedId } : {}) });
      const client = connect(second.port, { clientId: 'historian', clean: false });
      const got = receive(client, 10);
      expect((await connected(client)).sessionPresent).toBe(true);
      expect(await got).toEqual(payloads(0, 10));
    });

    it(`keeps the newest messages past the cap across a restart (${idChoice} broker id)`, async () => {
      const dir = await tempDir();
      const drops: string[] = [];
      const first = await startBroker(dir, { maxQueued: 5, drops, ...(fixedId ? { fixedId } : {}) });
      await subscribeThenLeave(first, 'historian', 'plant/#');
      await publishAll(first, 'plant/line1/temp', payloads(0, 4));
      await first.stop();

      const second = await startBroker(dir, { maxQueued: 5, drops, ...(fixedId ? { fixedId } : {}) });
      await publishAll(second, 'plant/line1/temp', payloads(4, 8));
      const client = connect(second.port, { clientId: 'historian', clean: false });
      const got = receive(client, 5);
      await connected(client);
      expect(await got).toEqual(payloads(3, 8));
      expect(drops).toEqual(['historian', 'historian', 'historian']);
    });
  }

  it('keeps an online subscriber connected when the cap drops messages it has in flight', async () => {
    const drops: string[] = [];
    const running = await startBroker(await tempDir(), { maxQueued: 2, drops });
    const subscriber = connect(running.port, { clientId: 'slow', clean: false });
    await connected(subscriber);
    await subscriber.subscribeAsync('burst/#', { qos: 1 });
    let closed = false;
    subscriber.on('close', () => (closed = true));

    const got = receive(subscriber, 30);
    const publisher = connect(running.port, { clientId: 'burster' });
    await connected(publisher);
    await Promise.all(payloads(0, 30).map((p) => publisher.publishAsync('burst/x', p, { qos: 1 })));
    const received = await got;

    expect(drops.length).toBeGreaterThan(0);
    expect(closed).toBe(false);
    expect(new Set(received)).toEqual(new Set(payloads(0, 30)));
  });
});
