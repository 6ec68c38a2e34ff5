/**
 * The simulator's own ceiling: the highest send rate firmware-sim reaches
 * here over 1, 10 and 100 MQTT connections (QoS 0 and 1), against Mosquitto,
 * so other benchmarks know when the load generator is the limit.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/sim-rate.js [--seconds 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker } from './harness/brokers.js';
import { runSim } from '../firmware-sim/index.js';

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 3;
const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'weir-sim-rate-'));

interface Row {
  qos: number;
  connections: number;
  sentPerSecond: number;
  ackedPerSecond: number;
}

async function measure(url: string, qos: 0 | 1, connections: number): Promise<Row> {
  let out = '';
  const sink = { write: (s: string) => ((out += s), true), isTTY: false } as unknown as NodeJS.WriteStream;
  // a target far above what one core can send: the achieved rate is the ceiling
  await runSim({ mqtt: url, devices: Math.max(100, connections), rate: '1000000/s', qos, connections, duration: `${seconds}s`, json: true }, { stdout: sink, stderr: sink });
  const summary = JSON.parse(out.trim().split('\n').at(-1)!) as { elapsedMs: number; messages: { sent: number; acknowledged: number } };
  const elapsed = summary.elapsedMs / 1000;
  return { qos, connections, sentPerSecond: Math.round(summary.messages.sent / elapsed), ackedPerSecond: Math.round(summary.messages.acknowledged / elapsed) };
}

const broker = await startBroker('mosquitto', { root, dir, nodeFlags: [] });
const rows: Row[] = [];
try {
  for (const qos of [0, 1] as const) for (const connections of [1, 10, 100]) rows.push(await measure(`mqtt://127.0.0.1:${broker.port}`, qos, connections));
} finally {
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`firmware-sim send ceiling, ${seconds}s per run, Mosquitto on loopback`);
console.log('qos  connections  sent msg/s  acknowledged msg/s');
for (const r of rows) console.log(`${r.qos}    ${String(r.connections).padEnd(11)}  ${String(r.sentPerSecond).padEnd(10)}  ${r.qos === 0 ? '-' : r.ackedPerSecond}`);
