/**
 * The example scenarios load through the schema (so they never rot), and every
 * message they generate decodes with the gateway's own decoders for the same
 * profiles into exactly the readings the simulator says it sent.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProfileRouter } from '../devices/profiles/router.js';
import { createFramer } from '../devices/decoders/framing/framer.js';
import { createFrameCheck } from '../devices/decoders/checksums/frame-check.js';
import { formatProblem } from '../gateway/core/yaml-source.js';
import { loadScenarioFile } from '../firmware-sim/scenario/load.js';
import { generate } from '../firmware-sim/run/generate.js';
import type { Outgoing } from '../firmware-sim/fleet/device.js';
import { Codec } from '../firmware-sim/fleet/codec.js';
import type { DeviceSpec } from '../firmware-sim/scenario/plan.js';

const DIR = join(import.meta.dirname, '../firmware-sim/scenarios');
const scenarios = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));

/** Decodes one message as the gateway would: topic routing for MQTT, framing + checksum + bound profile for serial. */
function decode(spec: DeviceSpec, router: ProfileRouter, m: Outgoing): { readings: number; errors: string[] } {
  const errors: string[] = [];
  let readings = 0;
  const t = spec.profile.transport?.kind === 'serial' ? spec.profile.transport : undefined;
  // a serial port with headerLine hands the decoder the header the device printed when it opened
  const header = t?.headerLine ? new Codec(spec).preamble(Object.keys(spec.metrics))[0]!.toString().trim() : undefined;
  const take = (raw: Buffer) => {
    const payload = header === undefined ? raw : Buffer.from(`${header}\n${raw.toString()}`);
    const r = spec.transport === 'mqtt' ? router.route(m.topic!, payload) : router.decodeAs(spec.profile.name, spec.id, payload);
    if (r.kind === 'readings') readings += r.readings.length;
    else errors.push(r.kind === 'decode-error' ? r.code : 'UNROUTED');
  };
  if (spec.transport === 'mqtt') take(m.bytes);
  else {
    const check = createFrameCheck(t?.checksum);
    const framer = createFramer(t?.framing ?? { kind: 'lf' }, {
      frame: (f) => {
        const c = check(f);
        if (c.ok) take(c.payload);
        else errors.push(c.code);
      },
      discard: (code) => errors.push(code),
    });
    framer.push(m.bytes);
  }
  return { readings, errors };
}

describe('example scenarios', () => {
  it('there are the three the issue asks for', () => {
    expect(scenarios).toEqual(expect.arrayContaining(['greenhouse.yaml', 'cold-room.yaml', 'factory-line.yaml']));
  });

  for (const file of scenarios) {
    it(`${file} loads and every clean message decodes into the readings the simulator counted`, async () => {
      const loaded = loadScenarioFile(join(DIR, file));
      if (!loaded.ok) throw new Error(loaded.problems.map(formatProblem).join('\n'));
      const { plan } = loaded;
      const router = new ProfileRouter([...new Map(plan.devices.map((d) => [d.profile.name, d.profile])).values()]);
      const specs = new Map(plan.devices.map((d) => [d.id, d]));
      let clean = 0;
      let broken = 0;
      const stats = await generate(plan, (m) => {
        const spec = specs.get(m.device)!;
        const got = decode(spec, router, m);
        const faulty = m.faults.some((f) => f === 'malformed' || f === 'corrupt' || f === 'oversized');
        if (!faulty) {
          expect(got.errors, `${m.device} ${m.bytes.toString('latin1').slice(0, 80)}`).toEqual([]);
          expect(got.readings).toBe(m.readings);
          clean++;
        } else if (m.readings === 0 && (!m.faults.includes('corrupt') || new Codec(spec).detectsCorruption)) {
          broken++;
          expect(got.readings, `${m.device} ${m.faults.join(',')} should not decode`).toBe(0);
        }
      });
      expect(clean).toBeGreaterThan(50);
      expect(stats.messages.sent).toBeGreaterThanOrEqual(clean + broken);
    });
  }
});
