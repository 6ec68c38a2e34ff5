/**
 * The promise of store-and-forward, under kill -9: every reading the gateway
 * acknowledged (PUBACK) reaches the upstream at least once, in order per
 * device, however often the gateway process is killed mid-stream. The gateway
 * runs as a real process (bin/weir.js) forwarding to a real Mosquitto.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { freePort, killChild, startMosquitto, waitForPort, type Mosquitto } from './lib/processes.js';
import { client, eventually, sleep } from './lib/mqtt.js';

const ROUNDS = 6;
const DEVICES = 3;
const bin = join(import.meta.dirname, '..', 'bin', 'weir.js');

let upstream: Mosquitto;
let dir: string;
let mqttPort: number;
let httpPort: number;

beforeAll(async () => {
  if (!existsSync(join(import.meta.dirname, '..', 'dist', 'gateway', 'cli', 'main.js'))) throw new Error('build first: npx tsc -p tsconfig.json');
  upstream = await startMosquitto();
  dir = mkdtempSync(join(tmpdir(), 'weir-kill9-'));
  mqttPort = await freePort();
  httpPort = await freePort();
  writeFileSync(
    join(dir, 'weir.yaml'),
    [
      'gateway: { id: k9, dataDir: ./data }',
      'log: { level: warn }',
      `broker: { listeners: { tcp: { host: 127.0.0.1, port: ${mqttPort} } } }`,
      `http: { host: 127.0.0.1, port: ${httpPort} }`,
      'ingest: { republish: { enabled: false } }',
      'buffer: { fsync: { policy: always }, cursorSync: 100ms }',
      `sinks: [{ kind: mqtt, name: up, url: '${upstream.url}', topic: 'up/{device}', delivery: { batchSize: 50, linger: 1ms } }]`,
    ].join('\n'),
  );
});

afterAll(async () => {
  await upstream?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function startGatewayProcess(): ChildProcess {
  return spawn(process.execPath, [bin, 'start', '--config', join(dir, 'weir.yaml')], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Publishes seq 0, 1, 2... round-robin over devices at QoS 1 until the connection dies; returns the seqs PUBACKed. */
async function publishUntilDead(from: number, acked: number[]): Promise<number> {
  const c: MqttClient = connect(`mqtt://127.0.0.1:${mqttPort}`, { reconnectPeriod: 0, connectTimeout: 3000, clientId: `pub-${from}` });
  await new Promise<void>((resolve, reject) => (c.once('connect', () => resolve()), c.once('error', reject)));
  let seq = from;
  let alive = true;
  // MQTT.js never calls back publishes still in flight when the socket dies
  const closed = new Promise<void>((resolve) => c.once('close', () => ((alive = false), resolve())));
  const inflight = new Set<Promise<void>>();
  while (alive) {
    const n = seq++;
    const p = new Promise<void>((resolve) =>
      c.publish(`weir/dev-${n % DEVICES}/telemetry`, JSON.stringify({ seq: n }), { qos: 1 }, (err) => {
        if (!err) acked.push(n); // PUBACK received: the gateway promised to keep this one
        resolve();
      }),
    ).finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= 20) await Promise.race([...inflight, closed]);
  }
  c.end(true);
  return seq;
}

describe('kill -9 of the gateway mid-stream', () => {
  it(`loses no acknowledged reading over ${ROUNDS} kills, in order per device`, async () => {
    const collector = await client(upstream.url, { clientId: 'collector', clean: true });
    const received: { device: string; seq: number }[] = [];
    collector.on('message', (topic, payload) => {
      const r = JSON.parse(payload.toString()) as { device: string; value: number };
      received.push({ device: r.device, seq: r.value });
    });
    await collector.subscribeAsync('up/#', { qos: 1 });

    const acked: number[] = [];
    let next = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const gw = startGatewayProcess();
      await waitForPort(mqttPort, 15_000);
      const publishing = publishUntilDead(next, acked);
      await sleep(300 + ((round * 137) % 500)); // deterministic but varied kill moments
      gw.kill('SIGKILL');
      next = await publishing;
      await killChild(gw);
    }
    // A last run drains what the killed ones held.
    const last = startGatewayProcess();
    try {
      await waitForPort(mqttPort, 15_000);
      const wanted = new Set(acked);
      await eventually(() => {
        for (const r of received) wanted.delete(r.seq);
        return wanted.size === 0;
      }, 30_000, `all ${acked.length} acknowledged readings upstream`);
    } finally {
      last.kill('SIGTERM');
      await killChild(last);
      await collector.endAsync();
    }

    const seen = new Set(received.map((r) => r.seq));
    const lost = acked.filter((s) => !seen.has(s));
    const duplicates = received.length - seen.size;
    console.info(`kill -9 x${ROUNDS}: ${acked.length} acknowledged, ${lost.length} lost, ${duplicates} duplicates upstream`);
    expect(acked.length).toBeGreaterThan(ROUNDS * 10);
    expect(lost).toEqual([]);
    expect(duplicates).toBeLessThan(ROUNDS * 1000); // bounded by cursorSync worth of re-sends per kill
    // in order per device: first arrivals of each device's seqs are increasing
    for (let d = 0; d < DEVICES; d++) {
      const firsts: number[] = [];
      const had = new Set<number>();
      for (const r of received) if (r.device === `dev-${d}` && !had.has(r.seq)) (had.add(r.seq), firsts.push(r.seq));
      expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
    }
  }, 180_000);
});
