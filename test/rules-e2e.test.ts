/**
 * Rules in the running gateway, over real sockets: a reading published with
 * MQTT.js raises an alert a subscriber receives on weir/alerts/{rule}/{device}
 * (plus the retained state), and rule files reload without a restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync, mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from './lib/gateway.js';
import { client, collector, eventually, metricValue } from './lib/mqtt.js';

const hotRule = (limit: number) => `rules:
  - id: too-hot
    kind: threshold
    metric: temp
    when: value > ${limit}
    clear: value < ${limit - 5}
    severity: critical
    message: "{device} at {value}"
`;

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.dispose();
  gw = undefined;
});

async function gatewayWithRules(ruleText: string, watch = true): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'weir-rules-e2e-'));
  mkdirSync(join(dir, 'rules'));
  writeFileSync(join(dir, 'rules', 'hot.yaml'), ruleText);
  return startTestGateway(`rules:\n  files: ["rules/*.yaml"]\n  watch: ${watch}`, { dir });
}

describe('alerts over MQTT', () => {
  it('raises and clears on the embedded broker, with retained state and evidence', async () => {
    gw = await gatewayWithRules(hotRule(80));
    const sub = await client(gw.mqttUrl);
    const alerts = await collector(sub, 'weir/alerts/#', 1);
    const pub = await client(gw.mqttUrl);
    await pub.publishAsync('sensors/oven-1/temp', '79', { qos: 1 });
    await pub.publishAsync('sensors/oven-1/temp', '81', { qos: 1 });
    const [event, state] = await alerts.next(2);
    expect(new Set([event!.topic, state!.topic])).toEqual(new Set(['weir/alerts/too-hot/oven-1', 'weir/alerts/too-hot/oven-1/state']));
    const raised = JSON.parse(event!.payload.toString());
    expect(raised).toMatchObject({ v: 1, kind: 'alert', rule: 'too-hot', device: 'oven-1', state: 'raise', severity: 'critical', message: 'oven-1 at 81', value: 81 });
    expect(raised.evidence.length).toBeGreaterThan(0);

    // inside the hysteresis band: no clear; below 75: clear
    await pub.publishAsync('sensors/oven-1/temp', '77', { qos: 1 });
    await pub.publishAsync('sensors/oven-1/temp', '74', { qos: 1 });
    const all = await alerts.next(4);
    const clear = JSON.parse(all[2]!.payload.toString());
    expect(clear).toMatchObject({ state: 'clear', value: 74 });

    // a late subscriber sees the current state, retained
    const late = await client(gw.mqttUrl);
    const retained = await collector(late, 'weir/alerts/too-hot/+/state');
    const [current] = await retained.next(1);
    expect(current!.retain).toBe(true);
    expect(JSON.parse(current!.payload.toString()).state).toBe('clear');
    expect(await metricValue(gw.httpUrl, 'weir_rule_raises_total', { rule: 'too-hot' })).toBe(1);
    await Promise.all([sub.endAsync(), pub.endAsync(), late.endAsync()]);
  });
});

describe('hot reload', () => {
  it('picks up an edited rule file, refuses an invalid one and keeps the running rules', async () => {
    gw = await gatewayWithRules(hotRule(80), false); // the endpoint alone, so the watcher cannot race it
    const file = join(gw.dir, 'rules', 'hot.yaml');
    const pub = await client(gw.mqttUrl);
    const sub = await client(gw.mqttUrl);
    const alerts = await collector(sub, 'weir/alerts/too-hot/+', 1);

    // an invalid edit is refused with file:line:col, the old rule (limit 80) keeps running
    writeFileSync(file, hotRule(80).replace('value > 80', 'value >>> 80'));
    const refused = await fetch(`${gw.httpUrl}/api/rules/reload`, { method: 'POST' });
    expect(refused.status).toBe(422);
    const body = (await refused.json()) as { problems: string[] };
    expect(body.problems[0]).toMatch(/hot\.yaml:5:\d+: /);
    await pub.publishAsync('sensors/k/temp', '85', { qos: 1 });
    await alerts.next(1);

    // a valid edit takes effect without a restart
    writeFileSync(file, hotRule(90));
    const ok = await fetch(`${gw.httpUrl}/api/rules/reload`, { method: 'POST' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ ok: true, changed: ['too-hot'] });
    await pub.publishAsync('sensors/k2/temp', '85', { qos: 1 }); // below the new limit: nothing
    await pub.publishAsync('sensors/k3/temp', '95', { qos: 1 });
    await eventually(() => alerts.messages.some((m) => m.topic === 'weir/alerts/too-hot/k3'), 5000, 'the alert of the new rule');
    expect(alerts.messages.some((m) => m.topic === 'weir/alerts/too-hot/k2')).toBe(false);
    await Promise.all([sub.endAsync(), pub.endAsync()]);
  });

  it('reloads on a file change by itself, and on SIGHUP (gateway.reload)', async () => {
    gw = await gatewayWithRules(hotRule(80));
    const file = join(gw.dir, 'rules', 'hot.yaml');
    const status = async () =>
      ((await (await fetch(`${gw!.httpUrl}/api/status`)).json()) as { rules: { rules: number; lastReload: { ok: boolean; changed?: string[]; added?: string[] } | null } }).rules;
    expect((await status()).lastReload).toBeNull();
    writeFileSync(file, hotRule(70));
    await eventually(async () => (await status()).lastReload?.changed?.[0] === 'too-hot', 5000, 'the watcher to reload the edited file');
    writeFileSync(join(gw.dir, 'rules', 'more.yaml'), hotRule(60).replace('too-hot', 'warm'));
    await gw.gateway.reload(); // what SIGHUP calls
    expect(await status()).toMatchObject({ rules: 2, lastReload: { ok: true, added: ['warm'] } });
  });
});
