/**
 * The simulator against a real gateway over real MQTT: what the fleet reports
 * acknowledged is what the gateway counted, each device's readings come back
 * on weir/readings/<device>, a malformed-payload fault shows up as decode
 * errors, and a link drop ends in a reconnect.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './lib/gateway.js';
import { client, collector, eventually, metricValue } from './lib/mqtt.js';
import { loadScenarioText } from '../firmware-sim/scenario/load.js';
import { startFleet, type Fleet } from '../firmware-sim/run/fleet.js';
import type { SimPlan } from '../firmware-sim/scenario/plan.js';

let gw: TestGateway | undefined;
let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  await gw?.dispose();
  gw = fleet = undefined;
});

function plan(yaml: string): SimPlan {
  const loaded = loadScenarioText('/tmp/sim-test.yaml', yaml);
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('\n'));
  return loaded.plan;
}

const climate = `
    metrics:
      temperature: [{ kind: sine, mean: 21, amplitude: 2, period: 1m }, { kind: quantize, step: 0.1 }]
      humidity: [{ kind: walk, min: 40, max: 60, step: 1 }]`;

describe('weir sim over MQTT against a running gateway', () => {
  it('the gateway counts exactly the readings the fleet reports acknowledged (QoS 1), and republishes each device', async () => {
    gw = await startTestGateway();
    const watcher = await client(gw.mqttUrl);
    const readings = await collector(watcher, 'weir/readings/+');
    fleet = await startFleet(
      plan(`
duration: 1500ms
mqtt: { qos: 1 }
fleet:
  - profile: weir-json
    count: 8
    id: gh-{i:02}
    cadence: 100ms
${climate}
`),
      { mqttUrl: gw.mqttUrl },
    );
    const s = await fleet.finished;
    expect(s.messages.sent).toBeGreaterThan(80);
    expect(s.messages.failed).toBe(0);
    expect(s.messages.acknowledged).toBe(s.messages.sent);
    expect(s.readings.acknowledged).toBe(2 * s.messages.acknowledged);
    await eventually(async () => (await metricValue(gw!.httpUrl, 'weir_readings_total')) === s.readings.acknowledged, 8000, 'gateway count');
    await eventually(() => readings.messages.length === s.readings.acknowledged, 8000, 'republished readings');
    const byDevice = new Map<string, Set<string>>();
    for (const m of readings.messages) {
      const r = JSON.parse(m.payload.toString()) as { device: string; metric: string };
      expect(m.topic).toBe(`weir/readings/${r.device}`);
      byDevice.set(r.device, (byDevice.get(r.device) ?? new Set()).add(r.metric));
    }
    expect([...byDevice.keys()].sort()).toEqual(['gh-01', 'gh-02', 'gh-03', 'gh-04', 'gh-05', 'gh-06', 'gh-07', 'gh-08']);
    for (const metrics of byDevice.values()) expect([...metrics].sort()).toEqual(['humidity', 'temperature']);
    await watcher.endAsync();
  });

  it('a malformed-payload fault shows up in weir_decode_errors_total, one per broken message', async () => {
    gw = await startTestGateway();
    fleet = await startFleet(
      plan(`
duration: 1200ms
fleet:
  - { profile: weir-json, count: 2, id: 'dev-{i}', cadence: 100ms, metrics: { t: [{ kind: constant, value: 1 }] } }
  - { profile: value-per-topic, id: 'probe-{i}', cadence: 100ms, metrics: { temp: [{ kind: constant, value: 4 }] } }
timeline:
  - { at: 300ms, kind: malformed, devices: [dev-2, probe-1], for: 500ms }
`),
      { mqttUrl: gw.mqttUrl },
    );
    const s = await fleet.finished;
    const broken = s.faults.malformed!.messages;
    expect(broken).toBeGreaterThanOrEqual(6);
    expect(s.messages.acknowledged).toBe(s.messages.sent);
    await eventually(async () => (await metricValue(gw!.httpUrl, 'weir_decode_errors_total')) === broken, 8000, 'decode errors');
    expect(await metricValue(gw.httpUrl, 'weir_decode_errors_total', { device: 'dev-1' })).toBe(0);
    expect(await metricValue(gw.httpUrl, 'weir_decode_errors_total', { code: 'INVALID_JSON' })).toBeGreaterThan(0);
    expect(await metricValue(gw.httpUrl, 'weir_decode_errors_total', { code: 'NOT_A_VALUE' })).toBeGreaterThan(0);
    expect(await metricValue(gw.httpUrl, 'weir_readings_total')).toBe(s.readings.acknowledged);
  });

  it('a link drop kills the sockets (the will fires), and the devices reconnect with their queued QoS 1 messages', async () => {
    gw = await startTestGateway();
    const watcher = await client(gw.mqttUrl);
    const status = await collector(watcher, 'weir/+/status', 1);
    fleet = await startFleet(
      plan(`
duration: 2s
mqtt:
  qos: 1
  reconnect: { initial: 50ms, max: 200ms }
  birth: { topic: 'weir/{device}/status', payload: online }
  will: { topic: 'weir/{device}/status', payload: offline }
fleet:
  - { profile: weir-json, count: 3, id: 'link-{i}', cadence: 100ms, metrics: { t: [{ kind: constant, value: 1 }] } }
timeline:
  - { at: 500ms, kind: link-drop, for: 600ms }
`),
      { mqttUrl: gw.mqttUrl },
    );
    await eventually(() => fleet!.stats().links.connected === 0, 5000, 'links down');
    const down = fleet.stats();
    expect(down.links.disconnects).toBe(3);
    await eventually(() => status.messages.filter((m) => m.payload.toString() === 'offline').length === 3, 8000, 'wills'); // generous: a loaded CI machine delays the broker noticing dead sockets
    const s = await fleet.finished;
    expect(s.links.reconnects).toBe(3);
    expect(s.faults['link-drop']).toEqual({ events: 1, messages: 0 });
    expect(s.messages.failed).toBe(0);
    expect(s.messages.acknowledged).toBe(s.messages.sent);
    // queued during the outage and delivered after it; a redelivery after a lost PUBACK could only add
    await eventually(async () => (await metricValue(gw!.httpUrl, 'weir_readings_total')) >= s.readings.acknowledged, 8000, 'readings after reconnect');
    const online = status.messages.filter((m) => m.payload.toString() === 'online').length;
    expect(online).toBe(6); // a birth per connect: 3 at start, 3 after the reconnect
    // a clean stop publishes the death message itself
    // seen once failing on a loaded CI run (not reproduced since): say what had arrived if it does again
    const statusSeen = () => status.messages.map((m) => `${m.topic}=${m.payload.toString()}`).join(', ');
    await eventually(() => status.messages.filter((m) => m.payload.toString() === 'offline').length === 6, 8000, () => `death messages; status messages seen: ${statusSeen()}`);
    await watcher.endAsync();
  });
});
