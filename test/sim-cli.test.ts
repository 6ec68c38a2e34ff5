/**
 * The command: runSim in its quick and scenario forms against a real gateway,
 * its exit codes and messages, the commander wiring, and the live view (drawn
 * in place on a terminal only).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './lib/gateway.js';
import { eventually, metricValue } from './lib/mqtt.js';
import { runSim, type SimIo } from '../firmware-sim/cli/run-sim.js';
import { registerSimCommand } from '../firmware-sim/cli/register.js';
import { LiveView, progressBar, render } from '../firmware-sim/cli/view.js';
import { parseRate } from '../firmware-sim/cli/options.js';
import type { StatsSnapshot } from '../firmware-sim/run/stats.js';

let gw: TestGateway | undefined;
let dir: string | undefined;
afterEach(async () => {
  await gw?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
  gw = dir = undefined;
});

function io(tty = false): SimIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s), isTTY: tty },
    stderr: { write: (s: string) => (err += s), isTTY: tty, columns: 100 },
    out: () => out,
    err: () => err,
  };
}

describe('weir sim command', () => {
  it('quick form: --devices --rate --duration --json reaches its rate and matches the gateway count, with latency from --watch', async () => {
    gw = await startTestGateway();
    const t = io();
    const code = await runSim({ devices: '20', rate: '200/s', duration: '1500ms', mqtt: gw.mqttUrl, json: true, watch: 'weir/readings/+', seed: '3' }, t);
    expect(code, t.err()).toBe(0);
    const s = JSON.parse(t.out()) as StatsSnapshot & { scenario: string; seed: number };
    expect(s).toMatchObject({ scenario: 'quick', seed: 3, devices: 20, messages: { failed: 0, pending: 0 } });
    expect(s.rate.target).toBe(200);
    // 200/s for 1.5 s, within 10%
    expect(s.messages.sent).toBeGreaterThanOrEqual(270);
    expect(s.messages.sent).toBeLessThanOrEqual(330);
    expect(s.rate.achieved).toBeGreaterThan(180);
    expect(s.latencyMs!.count).toBeGreaterThan(250);
    expect(s.latencyMs!.p50).toBeLessThan(500);
    await eventually(async () => (await metricValue(gw!.httpUrl, 'weir_readings_total')) === s.readings.acknowledged, 3000, 'gateway count');
    expect(t.err()).toBe(''); // no live view on a pipe
  });

  it('an unreachable target rate is reported as such, with the scheduler lag that shows why', async () => {
    gw = await startTestGateway();
    const t = io();
    expect(await runSim({ devices: '5', rate: '100000/s', duration: '500ms', mqtt: gw.mqttUrl, qos: '0' }, t)).toBe(0);
    expect(t.out()).toMatch(/rate {6}[\d.]+ msg\/s acknowledged \(target 100000 msg\/s, NOT reached\)/);
    const lag = /scheduler p99 ([\d.]+) ms/.exec(t.out());
    expect(Number(lag![1])).toBeGreaterThan(5);
    expect(t.err()).toMatch(/one device sends at most 1000\/s, so use more --devices/);
  });

  it('scenario form prints a text summary with per-fault counts; shared connections work', async () => {
    gw = await startTestGateway();
    dir = mkdtempSync(join(tmpdir(), 'weir-sim-cli-'));
    const file = join(dir, 's.yaml');
    writeFileSync(
      file,
      `name: tiny\nduration: 1s\nmqtt: { connections: 2 }\nfleet:\n  - { profile: weir-json, count: 4, id: 'c-{i}', cadence: 100ms, metrics: { t: [{ kind: constant, value: 1 }] } }\ntimeline:\n  - { at: 200ms, kind: duplicate, devices: c-1, for: 300ms }\n  - { at: 500ms, kind: silence, devices: c-2 }\n`,
    );
    const t = io();
    expect(await runSim({ scenario: file, mqtt: gw.mqttUrl, seed: 'abc' }, t)).toBe(0);
    const text = t.out();
    expect(text).toMatch(/^weir sim tiny \(seed abc\): 4 devices for 1\.0s\n/);
    expect(text).toMatch(/messages {2}sent \d+, acknowledged \d+, failed 0, silenced 5/);
    expect(text).toMatch(/links {5}2\/2 connected at the end of the run/);
    expect(text).toMatch(/faults {4}duplicate 1x \(3 messages\), silence 1x \(5 messages\)/);
  });

  it('exit 2 with file:line:col for a bad scenario, and a usage message for bad options', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-sim-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'fleet:\n  - profile: weir-json\n    cadence: often\n');
    const t = io();
    expect(await runSim({ scenario: file }, t)).toBe(2);
    expect(t.err()).toBe(`${file}:3:14: fleet.0.cadence: "often" does not match a duration such as 500ms, 30s, 5m, 1h\n`);
    const u = io();
    expect(await runSim({ devices: '10', rate: 'fast' }, u)).toBe(2);
    expect(u.err()).toMatch(/--rate "fast": use messages per time/);
    const v = io();
    expect(await runSim({}, v)).toBe(2);
    expect(v.err()).toMatch(/give --scenario FILE, or --devices N/);
    const w = io();
    expect(await runSim({ devices: '1', duration: '1s' }, w)).toBe(2);
    expect(w.err()).toMatch(/no broker: set mqtt.url in the scenario or pass --mqtt \(NO_BROKER\)/);
  });

  it('exit 1 when nothing gets through (no broker listening), with the errors counted', async () => {
    const t = io();
    const code = await runSim({ devices: '2', rate: '10/s', duration: '600ms', mqtt: 'mqtt://127.0.0.1:9', json: true, qos: '1' }, t);
    expect(code).toBe(1);
    const s = JSON.parse(t.out()) as StatsSnapshot;
    expect(s.messages.acknowledged).toBe(0);
    expect(s.errors.MQTT_ERROR).toBeGreaterThan(0);
  });

  it('registers as `weir sim` with record and replay subcommands in one call', async () => {
    const program = new Command('weir').exitOverride();
    const codes: number[] = [];
    const sim = registerSimCommand(program, (c) => codes.push(c));
    expect(sim.name()).toBe('sim');
    expect(sim.commands.map((c) => c.name())).toEqual(['record', 'replay']);
    expect(sim.options.map((o) => o.long)).toEqual(expect.arrayContaining(['--scenario', '--mqtt', '--serial', '--seed', '--duration', '--json', '--devices', '--rate']));
    dir = mkdtempSync(join(tmpdir(), 'weir-sim-cli-'));
    writeFileSync(join(dir, 's.yaml'), 'duration: 2s\nfleet:\n  - { profile: weir-json, metrics: { t: [{ kind: constant, value: 1 }] } }\n');
    await program.parseAsync(['node', 'weir', 'sim', 'record', '--scenario', join(dir, 's.yaml'), '--out', join(dir, 'o.ndjson')]);
    expect(codes).toEqual([0]);
    // the parent's own action still runs without a subcommand (a bad count: exit 2, one line on stderr)
    const write = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      await program.parseAsync(['node', 'weir', 'sim', '--devices', '0']);
    } finally {
      process.stderr.write = write;
    }
    expect(codes).toEqual([0, 2]);
  });

  it('parses rates for the fleet and per device', () => {
    expect(parseRate('10/s')).toEqual({ perSecond: 10, perDevice: false });
    expect(parseRate('120/m/device')).toEqual({ perSecond: 2, perDevice: true });
    expect(() => parseRate('10')).toThrow(/use messages per time/);
  });
});

describe('live view', () => {
  const snapshot = (elapsedMs: number): StatsSnapshot => ({
    elapsedMs,
    devices: 3,
    links: { total: 3, connected: 2, reconnects: 1, disconnects: 1 },
    messages: { sent: 100, acknowledged: 97, failed: 1, pending: 2, suppressed: 0 },
    readings: { sent: 200, acknowledged: 194 },
    bytes: 4000,
    rate: { target: undefined, achieved: 9.7 },
    faults: { 'link-drop': { events: 1, messages: 0 } },
    errors: { PUBLISH_FAILED: 1 },
    lastError: 'PUBLISH_FAILED: x',
    lagMs: { count: 0, min: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 },
    latencyMs: undefined,
  });

  it('renders links, rates, faults, errors and a progress bar for a fixed duration', () => {
    const lines = render('weir sim x', snapshot(30_000), { sent: 10, acknowledged: 9.5 }, 60_000, 120);
    expect(lines).toEqual([
      'weir sim x',
      'links     2/3 connected   reconnects 1',
      'messages  10.0/s sent  9.5/s acked   total 100 sent, 97 acked, 1 failed, 2 pending',
      'faults    link-drop 0',
      'errors    PUBLISH_FAILED 1',
      `[${'#'.repeat(25)}${'.'.repeat(25)}]  50%  30.0s / 1m00s`,
    ]);
    expect(progressBar(90_000, 60_000, 10)).toBe('[##########] 100%  1m30s / 1m00s');
  });

  it('redraws in place on a terminal and writes nothing on a pipe', async () => {
    let tty = '';
    const view = new LiveView({ write: (s: string) => (tty += s), isTTY: true, columns: 80 }, 'weir sim x', 10_000, () => snapshot(1000));
    view.start(20);
    await new Promise((r) => setTimeout(r, 70));
    view.stop();
    expect(tty).toContain('\x1b[?25l');
    expect(tty).toContain('\x1b[6F'); // back up over the six lines drawn
    expect(tty.endsWith('\x1b[?25h')).toBe(true);
    let pipe = '';
    const quiet = new LiveView({ write: (s: string) => (pipe += s), isTTY: false }, 'x', 10_000, () => snapshot(1000));
    quiet.start(20);
    await new Promise((r) => setTimeout(r, 50));
    quiet.stop();
    expect(pipe).toBe('');
  });
});
