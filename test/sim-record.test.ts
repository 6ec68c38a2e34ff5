/**
 * `weir sim record` and `weir sim replay` round trip: a scenario's readings
 * written offline as NDJSON (the `weir rules replay` format), replayed into a
 * real gateway, recorded back from its republished readings: the same
 * device, metric, value and time on every line.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseReadingLine } from '../rules/cli-replay.js';
import { startTestGateway, type TestGateway } from './lib/gateway.js';
import { runSimRecord, runSimReplay } from '../firmware-sim/cli/record-replay.js';
import { recordMqtt } from '../firmware-sim/record/record.js';
import type { SimIo } from '../firmware-sim/cli/run-sim.js';

let gw: TestGateway | undefined;
let dir: string | undefined;
afterEach(async () => {
  await gw?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
  gw = dir = undefined;
});

function io(): SimIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, out: () => out, err: () => err };
}

const key = (l: { device: string; metric: string; value: unknown; ts: number | string }) => `${l.device}|${l.metric}|${String(l.value)}|${typeof l.ts === 'string' ? Date.parse(l.ts) : l.ts}`;

describe('sim record and replay', () => {
  it('records a scenario offline as reading lines weir rules replay accepts, the same for the same seed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-sim-rec-'));
    const scenario = join(dir, 's.yaml');
    writeFileSync(
      scenario,
      `
duration: 20s
fleet:
  - { profile: weir-json, count: 3, id: 'r-{i}', cadence: 1s, metrics: { t: [{ kind: walk, min: 0, max: 5, step: 0.5 }], rh: [{ kind: constant, value: 40 }] } }
  - { profile: tasmota-plug, id: plug-1, cadence: 5s }
  - { profile: json-serial-sensor, id: bench-1, cadence: 2s }
timeline:
  - { at: 5s, kind: silence, devices: r-2, for: 5s }
  - { at: 12s, kind: malformed, devices: r-3, for: 3s }
`,
    );
    const a = io();
    expect(await runSimRecord({ scenario, out: join(dir, 'a.ndjson'), seed: 5, start: '2025-03-01T00:00:00Z' }, a)).toBe(0);
    expect(a.err()).toMatch(/^recorded \d+ readings of 5 devices/);
    expect(await runSimRecord({ scenario, out: join(dir, 'b.ndjson'), seed: 5, start: '2025-03-01T00:00:00Z' }, io())).toBe(0);
    const text = readFileSync(join(dir, 'a.ndjson'), 'utf8');
    expect(readFileSync(join(dir, 'b.ndjson'), 'utf8')).toBe(text);
    const lines = text.trim().split('\n');
    lines.forEach((l, i) => expect(parseReadingLine(l, i + 1).ok, l).toBe(true));
    const parsed = lines.map((l) => JSON.parse(l) as { device: string; metric: string; ts: number });
    // silenced and malformed messages carry no readings
    expect(parsed.filter((l) => l.device === 'r-2' && l.ts >= Date.parse('2025-03-01T00:00:05Z') && l.ts < Date.parse('2025-03-01T00:00:10Z'))).toEqual([]);
    expect(parsed.filter((l) => l.device === 'r-3' && l.ts >= Date.parse('2025-03-01T00:00:12Z') && l.ts < Date.parse('2025-03-01T00:00:15Z'))).toEqual([]);
    expect(new Set(parsed.filter((l) => l.device === 'plug-1').map((l) => l.metric))).toEqual(new Set(['power', 'voltage', 'current', 'power_factor', 'energy_today', 'energy_total']));
  });

  it('replays the lines into a gateway, which republishes exactly those readings; recording them gives the same lines back', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-sim-rec-'));
    const scenario = join(dir, 's.yaml');
    writeFileSync(scenario, `duration: 30s\nfleet:\n  - { profile: weir-json, count: 4, id: 'rt-{i}', cadence: 1s, metrics: { t: [{ kind: sine, amplitude: 5, period: 10s }], ok: [{ kind: square, period: 4s }] } }\n`);
    const file = join(dir, 'in.ndjson');
    expect(await runSimRecord({ scenario, out: file }, io())).toBe(0);
    const original = readFileSync(file, 'utf8').trim().split('\n');
    expect(original.length).toBe(4 * 30 * 2);

    gw = await startTestGateway();
    const recorded: string[] = [];
    const recording = recordMqtt({ url: gw.mqttUrl, topic: 'weir/readings/+', count: original.length, durationMs: 8000 }, (l) => recorded.push(l));
    await new Promise((r) => setTimeout(r, 200)); // the recorder subscribes before the replay starts
    const r = io();
    expect(await runSimReplay({ events: file, mqtt: gw.mqttUrl, speed: 'max', json: true }, r)).toBe(0);
    expect(JSON.parse(r.out())).toEqual({ lines: original.length, badLines: 0, messages: 4 * 30, acknowledged: 4 * 30, failed: 0 });
    await recording;
    expect(recorded.length).toBe(original.length);
    const parse = (l: string) => JSON.parse(l) as { device: string; metric: string; value: number; ts: number };
    expect(recorded.map((l) => key(parse(l))).sort()).toEqual(original.map((l) => key(parse(l))).sort());
  });

  it('replay reports bad lines with their line numbers and keeps going', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-sim-rec-'));
    const file = join(dir, 'bad.ndjson');
    writeFileSync(file, '{"ts":1700000000000,"device":"x","metric":"t","value":1}\nnot json\n{"ts":"2024-01-01T00:00:00Z","device":"","metric":"t","value":1}\n{"ts":"2024-01-01T00:00:00Z","device":"y","metric":"state","value":"open"}\n');
    gw = await startTestGateway();
    const r = io();
    expect(await runSimReplay({ events: file, mqtt: gw.mqttUrl }, r)).toBe(0);
    expect(r.err()).toContain(`${file}:2: not JSON`);
    expect(r.err()).toContain(`${file}:3: "device" must be a non-empty string`);
    expect(r.out()).toBe('replayed 2 readings as 2 messages: 2 acknowledged, 0 failed, 2 bad lines skipped\n');
  });
});
