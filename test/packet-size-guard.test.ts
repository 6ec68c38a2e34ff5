/** The packet-size guard reads only fixed headers, across any chunking. */
import { describe, expect, it } from 'vitest';
import { generate } from 'mqtt-packet';
import { PacketSizeTracker } from '../gateway/broker/packet-size-guard.js';

const publish = (size: number) => generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(size), qos: 0, retain: false, dup: false });

describe('PacketSizeTracker', () => {
  it('passes a stream of packets under the limit, however it is split', () => {
    const stream = Buffer.concat([publish(10), publish(300), publish(1000), generate({ cmd: 'pingreq' })]);
    for (const chunk of [1, 2, 3, 7, 64, stream.length]) {
      const t = new PacketSizeTracker(2048);
      for (let i = 0; i < stream.length; i += chunk) expect(t.feed(stream.subarray(i, i + chunk))).toBe(0);
    }
  });
  it('reports an oversized packet from its header alone, before the body arrives', () => {
    const big = publish(5000);
    const t = new PacketSizeTracker(4096);
    expect(t.feed(publish(10))).toBe(0);
    // only the fixed header (1 type byte + 2 length bytes) of the big packet
    expect(t.feed(big.subarray(0, 3))).toBe(big.length);
  });
  it('finds the oversized packet after smaller ones in the same chunk', () => {
    const t = new PacketSizeTracker(200);
    const big = publish(500);
    expect(t.feed(Buffer.concat([publish(5), publish(6), big]))).toBe(big.length);
  });
});
