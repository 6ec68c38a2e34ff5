import { it } from 'vitest';
import { startMosquitto } from './lib/processes.js';
import { quickPlan } from '../firmware-sim/cli/quick.js';
import { startFleet } from '../firmware-sim/run/fleet.js';

it('send rate', async () => {
  const m = await startMosquitto();
  try {
    for (const qos of [0, 1] as const) {
      for (const conns of [1, 10, 100]) {
        const devices = Math.max(conns, 100);
        const q = quickPlan({ devices, rate: { perSecond: 100_000, perDevice: false }, durationMs: 3000, qos, connections: conns });
        const fleet = await startFleet(q.plan!, { mqttUrl: m.url, targetRate: q.targetRate });
        const s = await fleet.finished;
        console.log(`qos ${qos} connections ${conns}: sent ${s.messages.sent} acked ${s.messages.acknowledged} achieved ${s.rate.achieved}/s lag p99 ${s.lagMs.p99}`);
      }
    }
  } finally {
    await m.dispose();
  }
}, 120_000);
