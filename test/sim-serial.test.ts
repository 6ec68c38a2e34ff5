/**
 * The simulator's serial devices over real ptys (socat): it makes the pair,
 * says which end the gateway opens, and writes the model's framing. The
 * devices helper's SerialSource reads the other end, as the gateway would.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSerial, type Harness } from './lib/serial-harness.js';
import { eventually } from './lib/mqtt.js';
import { nmeaChecksumProblem } from '../devices/decoders/checksums/nmea-checksum.js';
import { ProfileRouter } from '../devices/profiles/router.js';
import type { DeviceProfile } from '../devices/profiles/schema.js';
import { loadScenarioText } from '../firmware-sim/scenario/load.js';
import { libraryProfiles } from '../firmware-sim/model/profiles.js';
import { startFleet, type Fleet } from '../firmware-sim/run/fleet.js';

let fleet: Fleet | undefined;
let h: Harness | undefined;
afterEach(async () => {
  await h?.source.stop();
  await fleet?.stop();
  h = fleet = undefined;
});

const library = libraryProfiles().profiles;

async function run(yaml: string, profiles: readonly DeviceProfile[] = []): Promise<Fleet> {
  const loaded = loadScenarioText('/tmp/sim-serial.yaml', yaml, { profiles });
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('\n'));
  return startFleet(loaded.plan);
}

describe('weir sim serial devices over a socat pty pair', () => {
  it('a GPS writes NMEA sentences with valid checksums the gateway decodes; the corrupt fault breaks checksums, and the source counts them', async () => {
    fleet = await run(`
fleet:
  - { profile: nmea-gps, id: gps-1, cadence: 100ms }
timeline:
  - { at: 1s, kind: corrupt, mode: checksum, devices: gps-1 }
`);
    const path = fleet.serialPaths.get('gps-1')!;
    expect(path).toMatch(/gps-1$/);
    h = await startSerial({ path, device: 'gps-1', profile: 'nmea-gps' }, library);
    await eventually(() => h!.frames.length >= 6, 3000, 'sentences');
    // before the fault: every sentence passes the source's checksum check
    expect(h.codes()).toEqual([]);
    const texts = h.texts();
    for (const t of texts) expect(nmeaChecksumProblem(t, true)).toBeUndefined();
    expect(new Set(texts.map((t) => t.slice(3, 6)))).toEqual(new Set(['RMC', 'GGA', 'GSA']));
    const router = new ProfileRouter(library);
    const decoded = router.decodeAs('nmea-gps', 'gps-1', h.frames.find((f) => f.payload.includes('RMC'))!.payload);
    expect(decoded.kind).toBe('readings');
    if (decoded.kind === 'readings') expect(decoded.readings.map((r) => r.metric)).toEqual(['valid', 'lat', 'lon', 'speed', 'course']);
    await eventually(() => h!.codes().filter((c) => c === 'CHECKSUM_MISMATCH').length >= 3, 3000, 'checksum errors');
    expect(fleet.stats().faults.corrupt!.messages).toBeGreaterThanOrEqual(3);
  });

  it('a JSON-lines sensor writes one object per line; corrupted bytes on the wire stop decoding', async () => {
    fleet = await run(`
fleet:
  - { profile: json-serial-sensor, id: bench-1, cadence: 50ms }
timeline:
  - { at: 600ms, kind: corrupt, devices: bench-1 }
`);
    h = await startSerial({ path: fleet.serialPaths.get('bench-1')!, device: 'bench-1', profile: 'json-serial-sensor' }, library);
    await eventually(() => h!.frames.length >= 3, 3000, 'lines');
    const first = JSON.parse(h.texts()[0]!) as Record<string, number>;
    expect(Object.keys(first).sort()).toEqual(['humidity', 'temperature', 'ts']);
    expect(first.temperature).toBeGreaterThan(-40);
    const router = new ProfileRouter(library);
    await eventually(() => h!.frames.length >= 25, 3000, 'lines after the fault');
    const failures = h.frames.map((f) => router.decodeAs('json-serial-sensor', 'bench-1', f.payload)).filter((r) => r.kind !== 'readings');
    // a flipped bit in a digit can still parse: without a checksum, noise is not always caught
    expect(failures.length).toBeGreaterThan(0);
  });

  it('a polled device answers each request the gateway writes', async () => {
    const polled: DeviceProfile = {
      name: 'kv-polled',
      decoder: { kind: 'kv' },
      transport: { kind: 'serial', framing: { kind: 'crlf' }, poll: { request: 'READ\r\n', encoding: 'text', every: '200ms', timeout: '150ms' } },
      metrics: { level: { min: 0, max: 100 } },
    };
    fleet = await run(`
fleet:
  - { profile: kv-polled, id: tank-1 }
`, [polled]);
    h = await startSerial({ path: fleet.serialPaths.get('tank-1')!, device: 'tank-1', profile: 'kv-polled' }, [polled]);
    await eventually(() => h!.frames.length >= 4, 3000, 'answers');
    expect(h.texts()[0]).toMatch(/^level=\d+(\.\d+)?$/);
    expect(h.codes()).not.toContain('POLL_TIMEOUT');
    expect(fleet.stats().messages.sent).toBeGreaterThanOrEqual(4);
  });
});
