/**
 * Write coalescing on real TCP sockets: the packets mqtt-packet writes in one
 * event-loop turn leave in one writev, in order, with the stream's own
 * backpressure; a connection closed while corked goes quietly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net, { type Socket } from 'node:net';
import { once } from 'node:events';
import mqttPacket from 'mqtt-packet';
import { coalesceWrites } from '../gateway/broker/write-coalescing.js';

interface Pair {
  server: Socket;
  client: Socket;
  close(): void;
}

let pair: Pair | undefined;
afterEach(() => {
  pair?.close();
  pair = undefined;
});

async function socketPair(): Promise<Pair> {
  const listener = net.createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const { port } = listener.address() as net.AddressInfo;
  const accepted = once(listener, 'connection') as Promise<[Socket]>;
  const client = net.connect(port, '127.0.0.1');
  const [server] = await accepted;
  await once(client, 'connect');
  return { server, client, close: () => (client.destroy(), server.destroy(), listener.close()) };
}

/** Counts the writev/write calls that reach the socket's handle. */
function countSyscallWrites(socket: Socket): () => number {
  let calls = 0;
  const s = socket as unknown as { _writev: (...a: unknown[]) => unknown; _write: (...a: unknown[]) => unknown };
  const writev = s._writev.bind(socket);
  const write = s._write.bind(socket);
  s._writev = (...a) => (calls++, writev(...a));
  s._write = (...a) => (calls++, write(...a));
  return () => calls;
}

function publish(i: number) {
  return { cmd: 'publish' as const, topic: `weir/readings/dev-${i}`, payload: Buffer.from(JSON.stringify({ i })), qos: 0 as const, retain: false, dup: false };
}

/** Writes `n` packets the way aedes delivers them: one per setImmediate callback. */
async function deliverInOneTurn(socket: Socket, n: number): Promise<void> {
  await new Promise<void>((resolve) => {
    for (let i = 0; i < n; i++) setImmediate(() => void mqttPacket.writeToStream(publish(i), socket));
    setImmediate(resolve);
  });
}

async function readPackets(socket: Socket, n: number): Promise<number[]> {
  const parser = mqttPacket.parser();
  const seen: number[] = [];
  return new Promise((resolve) => {
    parser.on('packet', (p) => {
      seen.push((JSON.parse(String((p as { payload: Buffer }).payload)) as { i: number }).i);
      if (seen.length === n) resolve(seen);
    });
    socket.on('data', (chunk) => parser.parse(chunk));
  });
}

describe('coalesceWrites', () => {
  it('sends the packets written in one loop turn in one system call, in order', async () => {
    pair = await socketPair();
    coalesceWrites(pair.server);
    const writes = countSyscallWrites(pair.server);
    const received = readPackets(pair.client, 200);
    await deliverInOneTurn(pair.server, 200);
    expect(await received).toEqual([...Array(200).keys()]);
    expect(writes()).toBeLessThanOrEqual(2);
  });

  it('without it, the same deliveries cost one system call each (what it saves)', async () => {
    pair = await socketPair();
    const writes = countSyscallWrites(pair.server);
    const received = readPackets(pair.client, 200);
    await deliverInOneTurn(pair.server, 200);
    await received;
    expect(writes()).toBeGreaterThanOrEqual(190);
  });

  it('keeps writing on in later turns, and reports backpressure the usual way', async () => {
    pair = await socketPair();
    coalesceWrites(pair.server);
    pair.client.pause(); // a subscriber that stops reading
    const big = { ...publish(0), payload: Buffer.alloc(64 * 1024, 1) };
    let accepted = true;
    for (let turn = 0; turn < 64 && accepted; turn++) {
      await new Promise((r) => setImmediate(r));
      accepted = mqttPacket.writeToStream(big, pair.server);
    }
    expect(accepted).toBe(false);
    const drained = once(pair.server, 'drain');
    pair.client.resume();
    await drained;
  });

  it('lets a connection close while packets wait for the flush', async () => {
    pair = await socketPair();
    coalesceWrites(pair.server);
    const closed = once(pair.server, 'close');
    mqttPacket.writeToStream(publish(1), pair.server);
    pair.server.destroy();
    await closed;
    await new Promise((r) => setImmediate(r)); // the pending flush runs on a destroyed socket
  });
});
