/**
 * The serial source over real ptys: Debian's socat links the port weir opens to
 * a peer the test writes from. Unplugging is killing socat; plugging back in is
 * a new socat on the same link paths.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ptyPair, type PtyPair } from './lib/pty.js';
import { startSerial, type Harness } from './lib/serial-harness.js';
import { eventually, sleep } from './lib/mqtt.js';
import type { DeviceProfile } from '../devices/profiles/schema.js';

const jsonSensor: DeviceProfile = { name: 'json-sensor', decoder: { kind: 'json' }, transport: { kind: 'serial', baud: 115200 } };
const kvPolled: DeviceProfile = { name: 'kv-polled', decoder: { kind: 'kv' }, transport: { kind: 'serial' } };

let pair: PtyPair | undefined;
let h: Harness | undefined;
afterEach(async () => {
  await h?.source.stop();
  await pair?.dispose();
  h = pair = undefined;
});

describe('serial source over a socat pty pair', () => {
  it('hands on each line once as a frame bound to its profile and device, whatever the read boundaries', async () => {
    pair = await ptyPair();
    h = await startSerial({ path: pair.device, device: 'bench-1', profile: 'json-sensor' }, [jsonSensor]);
    expect(h.source.status().state).toBe('open');
    await pair.write('{"t":21.5}\r\n{"t":');
    await sleep(50);
    await pair.write('21.6}\n{"t":21.7}\n');
    await eventually(() => h!.frames.length === 3, 3000, 'three frames');
    expect(h.texts()).toEqual(['{"t":21.5}', '{"t":21.6}', '{"t":21.7}']);
    expect(h.frames[0]).toMatchObject({ source: `serial:${pair.device}`, address: pair.device, meta: { profile: 'json-sensor', device: 'bench-1' } });
    expect(h.source.status()).toMatchObject({ state: 'open', counters: { frames: 3, opens: 1 } });
  });

  it('reopens after the plug is pulled and put back, without duplicating frames or listeners (serialport#2028)', async () => {
    pair = await ptyPair();
    h = await startSerial({ path: pair.device, device: 'bench-1', profile: 'json-sensor', reopen: { initial: '100ms', max: '400ms' } }, [jsonSensor]);
    for (let i = 1; i <= 3; i++) await pair.write(`{"n":${i}}\n`);
    await eventually(() => h!.frames.length === 3, 3000, 'frames before the unplug');
    await pair.write('{"n":'); // a line cut by the unplug
    await sleep(50);
    await pair.unplug();
    await eventually(() => h!.source.status().state === 'retrying', 3000, 'retrying after the unplug');
    // a few failed attempts while unplugged, each counted, none fatal
    await eventually(() => h!.source.status().counters.openFailures >= 2, 5000, 'failed reopen attempts');
    expect(h.source.status().lastError).toMatch(/ENOENT|No such file/);
    await pair.plug();
    await eventually(() => h!.source.status().state === 'open', 5000, 'open again');
    for (let i = 4; i <= 6; i++) await pair.write(`{"n":${i}}\n`);
    await eventually(() => h!.frames.length >= 6, 3000, 'frames after the replug');
    await sleep(200);
    expect(h.texts()).toEqual([1, 2, 3, 4, 5, 6].map((n) => `{"n":${n}}`));
    const s = h.source.status();
    expect(s.counters).toMatchObject({ opens: 2, disconnects: 1, frames: 6, partialFrames: 1 });
    expect(h.codes()).toContain('DISCONNECTED');
    // a second unplug and replug: still one listener per port
    await pair.unplug();
    await eventually(() => h!.source.status().state === 'retrying', 3000, 'retrying again');
    await pair.plug();
    await eventually(() => h!.source.status().state === 'open', 5000, 'open a third time');
    await pair.write('{"n":7}\n');
    await eventually(() => h!.frames.length >= 7, 3000, 'frame after the second replug');
    await sleep(200);
    expect(h.frames).toHaveLength(7);
    expect(h.source.status().counters.opens).toBe(3);
  });

  it('starts with the port missing, says so in its status, and opens it once it appears', async () => {
    pair = await ptyPair({ plugged: false });
    h = await startSerial({ path: pair.device, device: 'late-1', profile: 'json-sensor', reopen: { initial: '100ms', max: '300ms' } }, [jsonSensor]);
    const s = h.source.status();
    expect(s.state).toBe('retrying');
    expect(s.counters.openFailures).toBe(1);
    expect(s.nextAttemptInMs).toBeGreaterThan(0);
    expect(h.problems[0]).toMatchObject({ code: 'OPEN_FAILED', device: 'late-1' });
    expect(h.problems[0]!.message).toContain(pair.device);
    await sleep(400);
    await pair.plug();
    await eventually(() => h!.source.status().state === 'open', 5000, 'open once plugged');
    await pair.write('{"x":1}\n');
    await eventually(() => h!.frames.length === 1, 3000, 'a frame');
  });

  it('reopens a port that went silent without closing (serialport#2117)', async () => {
    pair = await ptyPair();
    h = await startSerial({ path: pair.device, device: 'quiet-1', profile: 'json-sensor', silence: '300ms' }, [jsonSensor]);
    await pair.write('{"a":1}\n');
    await eventually(() => h!.frames.length === 1, 3000, 'first frame');
    await eventually(() => h!.source.status().counters.watchdogReopens >= 1, 3000, 'the watchdog fired');
    expect(h.codes()).toContain('SILENT');
    await eventually(() => h!.source.status().state === 'open', 3000, 'open after the watchdog');
    expect(h.source.status().counters.opens).toBeGreaterThanOrEqual(2);
    await pair.write('{"a":2}\n');
    await eventually(() => h!.frames.length === 2, 3000, 'data after the reopen');
  });

  it('counts garbage, overlong and partial lines and keeps going', async () => {
    pair = await ptyPair();
    h = await startSerial({ path: pair.device, device: 'noisy-1', profile: 'json-sensor', framing: { kind: 'lf', maxLength: 64 } }, [jsonSensor]);
    await pair.write(Buffer.concat([Buffer.from([0xff, 0x00, 0xfe]), Buffer.from('\n')]));
    await pair.write(`${'x'.repeat(100)}`);
    await sleep(50);
    await pair.write(`${'y'.repeat(100)}\n{"ok":1}\n`);
    await eventually(() => h!.texts().includes('{"ok":1}'), 3000, 'the good line after the overlong one');
    // the garbage line is a frame (its decoder will reject it); the overlong one never is
    expect(h.frames.map((f) => f.payload.toString('hex'))).toEqual(['ff00fe', Buffer.from('{"ok":1}').toString('hex')]);
    expect(h.source.status().counters.discarded).toBe(1);
    const tooLong = h.problems.find((p) => p.code === 'FRAME_TOO_LONG');
    expect(tooLong?.sample?.subarray(0, 4).toString()).toBe('xxxx');
  });

  it('polls a request/response device; a late answer is a counted timeout and the next poll works', async () => {
    pair = await ptyPair();
    let requests = 0;
    pair.onData((chunk) => {
      if (!chunk.toString().includes('READ')) return;
      requests++;
      // the second request is answered after the timeout
      const delay = requests === 2 ? 450 : 20;
      setTimeout(() => void pair?.write(`t=${20 + requests}\n`).catch(() => undefined), delay);
    });
    h = await startSerial({ path: pair.device, device: 'polled-1', profile: 'kv-polled', poll: { request: 'READ\n', every: '600ms', timeout: '300ms' } }, [kvPolled]);
    await eventually(() => requests >= 3 && h!.frames.length >= 2, 6000, 'three polls');
    await sleep(100);
    const s = h.source.status();
    expect(h.texts().slice(0, 2)).toEqual(['t=21', 't=23']);
    expect(s.counters.pollTimeouts).toBe(1);
    expect(s.counters.lateFrames).toBe(1);
    expect(h.codes()).toEqual(expect.arrayContaining(['POLL_TIMEOUT', 'LATE_FRAME']));
  });
});
