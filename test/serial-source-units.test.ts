/**
 * The serial source's timing on a virtual clock, with a stand-in port opener:
 * reopen backoff, the poll cadence, and stale callbacks from a port that was
 * already replaced (the shape of serialport#2028).
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../gateway/core/clock.js';
import { Backoff } from '../devices/serial/backoff.js';
import { Poller } from '../devices/serial/poller.js';
import { SerialSource } from '../devices/serial/serial-source.js';
import { resolveSerialSettings } from '../devices/serial/settings.js';
import type { OpenPort, PortEvents } from '../devices/serial/port-link.js';
import type { Frame, SourceProblem } from '../gateway/core/contracts.js';
import type { DeviceProfile } from '../devices/profiles/schema.js';

const profile: DeviceProfile = { name: 'p', decoder: { kind: 'kv' }, transport: { kind: 'serial' } };
const flush = () => new Promise((r) => setImmediate(r));

describe('backoff', () => {
  it('doubles from the initial wait up to the cap, with ±20% jitter, and starts over on reset', () => {
    const mid = new Backoff(500, 4000, () => 0.5);
    expect([1, 2, 3, 4, 5].map(() => mid.next())).toEqual([500, 1000, 2000, 4000, 4000]);
    mid.reset();
    expect(mid.next()).toBe(500);
    expect(new Backoff(500, 4000, () => 0).next()).toBe(400);
    expect(new Backoff(500, 4000, () => 0.999999).next()).toBe(600);
  });
});

describe('poller', () => {
  it('asks on a fixed cadence and times out unanswered requests', () => {
    const clock = new VirtualClock(0);
    const sent: number[] = [];
    const timeouts: number[] = [];
    const p = new Poller({ everyMs: 1000, timeoutMs: 300, clock, send: () => sent.push(clock.now()), onTimeout: () => timeouts.push(clock.now()) });
    p.start();
    clock.advanceTo(1100);
    expect(p.answer()).toBe(true);
    expect(p.answer()).toBe(false);
    clock.advanceTo(3500);
    expect(sent).toEqual([1000, 2000, 3000]);
    expect(timeouts).toEqual([2300, 3300]);
    p.stop();
    clock.advanceTo(10_000);
    expect(sent).toHaveLength(3);
  });
});

describe('serial source state machine', () => {
  function rig() {
    const clock = new VirtualClock(0);
    const opens: PortEvents[] = [];
    let fail: string | undefined = 'ENOENT: no such file or directory';
    const open: OpenPort = async (_s, events) => {
      if (fail) throw new Error(fail);
      opens.push(events);
      return { write: (_d, done) => done(undefined), close: async () => undefined };
    };
    const settings = resolveSerialSettings({ path: '/dev/ttyUSB7', device: 'd', profile: 'p', reopen: { initial: '1s', max: '8s' } }, [profile]).settings!;
    const source = new SerialSource({ settings, clock, open, random: () => 0.5 });
    const frames: Frame[] = [];
    const problems: SourceProblem[] = [];
    return { clock, opens, source, frames, problems, plug: () => (fail = undefined), start: () => source.start((f) => void frames.push(f), (p) => void problems.push(p)) };
  }

  it('retries a missing port with growing waits and reports when the next attempt is due', async () => {
    const r = rig();
    await r.start();
    expect(r.source.status()).toMatchObject({ state: 'retrying', nextAttemptInMs: 1000, counters: { openFailures: 1 } });
    for (const wait of [1000, 2000, 4000, 8000, 8000]) {
      expect(r.source.status().nextAttemptInMs).toBe(wait);
      r.clock.advanceBy(wait);
      await flush();
    }
    expect(r.source.status().counters.openFailures).toBe(6);
    r.plug();
    r.clock.advanceBy(8000);
    await flush();
    expect(r.source.status()).toMatchObject({ state: 'open', nextAttemptInMs: null, lastError: 'ENOENT: no such file or directory' });
  });

  it('ignores data and close events from a port it already replaced', async () => {
    const r = rig();
    r.plug();
    await r.start();
    const first = r.opens[0]!;
    first.data(Buffer.from('a=1\n'));
    first.closed('disconnected');
    r.clock.advanceBy(1000);
    await flush();
    expect(r.opens).toHaveLength(2);
    // the old port fires late: nothing happens
    first.data(Buffer.from('a=2\n'));
    first.closed('disconnected');
    r.opens[1]!.data(Buffer.from('a=3\n'));
    expect(r.frames.map((f) => f.payload.toString())).toEqual(['a=1', 'a=3']);
    expect(r.source.status()).toMatchObject({ state: 'open', counters: { opens: 2, disconnects: 1 } });
    await r.source.stop();
    r.opens[1]!.data(Buffer.from('a=4\n'));
    expect(r.frames).toHaveLength(2);
    expect(r.source.status().state).toBe('stopped');
    expect(r.clock.pending()).toBe(0);
  });

  it('survives a pipeline that throws or rejects, counting each', async () => {
    const clock = new VirtualClock(0);
    const open: OpenPort = async (_s, events) => {
      setImmediate(() => events.data(Buffer.from('a=1\na=2\n')));
      return { write: (_d, done) => done(undefined), close: async () => undefined };
    };
    const settings = resolveSerialSettings({ path: '/dev/x', device: 'd', profile: 'p' }, [profile]).settings!;
    const source = new SerialSource({ settings, clock, open });
    let n = 0;
    await source.start(
      () => {
        if (n++ === 0) throw new Error('boom');
        return Promise.reject(new Error('full'));
      },
      () => undefined,
    );
    await flush();
    await flush();
    expect(source.status().counters).toMatchObject({ frames: 2, ingestFailures: 2 });
    await source.stop();
  });
});
