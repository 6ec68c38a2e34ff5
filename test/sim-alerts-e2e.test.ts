/**
 * firmware-sim drives the rules end to end: a temperature ramp on one device
 * raises a threshold alert, a silenced device raises an absence alert, both
 * received by an MQTT subscriber of the running gateway.
 */
import { afterEach, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from './lib/gateway.js';
import { client, collector, eventually } from './lib/mqtt.js';
import { loadScenarioText, startFleet } from '../firmware-sim/index.js';

const RULES = `rules:
  - id: hot
    kind: threshold
    metric: temperature
    when: value > 40
    clear: value < 35
    severity: critical
    message: "{device} at {value}"
  - id: silent
    kind: absence
    metric: temperature
    after: 1500ms
    severity: warning
    message: "{device} went quiet"
`;

const SCENARIO = `name: e2e
seed: 7
duration: 5s
mqtt: { qos: 1 }
fleet:
  - name: room
    profile: weir-json
    count: 3
    id: room-{i}
    cadence: 200ms
    metrics:
      temperature: [{ kind: constant, value: 20 }]
timeline:
  - { at: 1s, kind: ramp, devices: room-2, metric: temperature, to: 60, over: 1s }
  - { at: 1s, kind: silence, devices: room-3, for: 10s }
`;

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.dispose();
  gw = undefined;
});

it('a simulated ramp and a silenced device raise their alerts on the gateway', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-sim-alerts-'));
  mkdirSync(join(dir, 'rules'));
  writeFileSync(join(dir, 'rules', 'room.yaml'), RULES);
  gw = await startTestGateway('rules:\n  files: ["rules/*.yaml"]\n  watch: false', { dir });
  const sub = await client(gw.mqttUrl);
  const alerts = await collector(sub, 'weir/alerts/+/+', 1);

  const loaded = loadScenarioText('e2e.yaml', SCENARIO);
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
  const fleet = await startFleet(loaded.plan, { mqttUrl: gw.mqttUrl });
  try {
    await eventually(
      () => ['weir/alerts/hot/room-2', 'weir/alerts/silent/room-3'].every((t) => alerts.messages.some((m) => m.topic === t)),
      8000,
      'the threshold and absence alerts',
    );
  } finally {
    await fleet.stop();
  }
  const raised = alerts.messages.map((m) => JSON.parse(m.payload.toString()) as { rule: string; device: string; state: string });
  expect(raised).toContainEqual(expect.objectContaining({ rule: 'hot', device: 'room-2', state: 'raise' }));
  expect(raised).toContainEqual(expect.objectContaining({ rule: 'silent', device: 'room-3', state: 'raise' }));
  // the steady devices raised nothing
  expect(raised.filter((a) => a.device === 'room-1')).toEqual([]);
  await sub.endAsync();
});
