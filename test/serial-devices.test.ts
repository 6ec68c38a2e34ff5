/**
 * Device profiles end to end over a pty: the shipped NMEA GPS profile fed a
 * real receiver log with corrupted sentences, a binary SLIP/COBS device with a
 * Modbus CRC, an Arduino printing a CSV header, and undecodable lines counted
 * per device and logged as hex samples at a limited rate.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ptyPair, type PtyPair } from './lib/pty.js';
import { startSerial, type Harness } from './lib/serial-harness.js';
import { libraryProfiles, testPipeline } from './lib/bound-pipeline.js';
import { eventually, sleep } from './lib/mqtt.js';
import { slipEncode } from '../devices/decoders/framing/slip.js';
import { cobsEncode } from '../devices/decoders/framing/cobs.js';
import { crc16, crc16Bytes } from '../devices/decoders/checksums/crc.js';
import type { DeviceProfile } from '../devices/profiles/schema.js';

// a u-blox receiver at 1 Hz: GGA, RMC, GSA, GSV, TXT, as captured
const GPS_LOG = [
  '$GNGGA,103309.000,4935.780351,N,00700.812390,E,2,17,0.72,465.352,M,47.791,M,,*70',
  '$GNRMC,103309.000,A,4935.780351,N,00700.812390,E,0.01,58.03,271020,,,D*41',
  '$GPGSA,A,3,02,30,05,06,07,09,,,,,,,5.09,3.19,3.97*04',
  '$GPGSV,1,1,00,0*65',
];

let pair: PtyPair | undefined;
let h: Harness | undefined;
afterEach(async () => {
  await h?.source.stop();
  await pair?.dispose();
  h = pair = undefined;
});

describe('shipped and binary profiles over a pty', () => {
  it('turns a GPS log into position readings and drops corrupted sentences by checksum', async () => {
    const profiles = libraryProfiles();
    const t = testPipeline(profiles);
    pair = await ptyPair();
    h = await startSerial({ path: pair.device, device: 'van-gps', profile: 'nmea-gps' }, profiles, t.pipeline.ingest);
    const corrupted = GPS_LOG[1]!.replace('4935.780351', '4935.788351');
    await pair.write([...GPS_LOG, corrupted, '$GNGGA,103310.000,4935.7'].map((s) => `${s}\r\n`).join(''));
    await eventually(() => h!.frames.length === 4 && h!.problems.length === 2, 3000, 'four good sentences');
    // the corrupted copy fails its checksum; the truncated one has none left
    expect(h.source.status().counters).toMatchObject({ frames: 4, checksumErrors: 2 });
    expect(h.codes()).toEqual(['CHECKSUM_MISMATCH', 'NO_CHECKSUM']);
    const byMetric = Object.fromEntries(t.readings.map((r) => [r.metric, r]));
    expect(byMetric.lat).toMatchObject({ device: 'van-gps', value: 49.5963392, unit: 'deg', source: `serial:${pair.device}` });
    expect(byMetric.altitude).toMatchObject({ value: 465.352, unit: 'm' });
    expect(byMetric.satellites?.value).toBe(17);
    expect(byMetric.fix_type?.value).toBe(3);
    // GSV is not among the profile's sentences: accepted, no readings
    expect(byMetric.satellites_in_view).toBeUndefined();
    expect(t.readings.some((r) => r.flags)).toBe(false);
  });

  it('counts undecodable lines per device and samples them as hex at a limited rate', async () => {
    const profiles = libraryProfiles();
    const t = testPipeline(profiles);
    pair = await ptyPair();
    h = await startSerial({ path: pair.device, device: 'uno-3', profile: 'json-serial-sensor' }, profiles, t.pipeline.ingest);
    const garbage = Array.from({ length: 12 }, (_, i) => `\u0001\u00ffgarbage ${i}`).join('\n');
    await pair.write(`${garbage}\n{"temperature":120}\n`);
    await eventually(() => h!.frames.length === 13, 3000, 'thirteen lines');
    expect(await t.metrics.registry.getSingleMetricAsString('weir_decode_errors_total')).toContain('weir_decode_errors_total{device="uno-3",code="INVALID_JSON"} 12');
    const sampled = t.logs.filter((l) => l.code === 'INVALID_JSON');
    expect(sampled.length).toBe(5);
    expect(sampled[0]!.sample).toBe(Buffer.from('\u0001\u00ffgarbage 0').toString('hex'));
    // the good line still arrives, flagged against the profile's range
    expect(t.readings).toMatchObject([{ device: 'uno-3', metric: 'temperature', value: 120, unit: '°C', flags: ['out-of-range'] }]);
  });

  for (const kind of ['slip', 'cobs'] as const) {
    it(`decodes ${kind.toUpperCase()} frames with a Modbus CRC through a binary layout`, async () => {
      const profile: DeviceProfile = {
        name: `node-${kind}`,
        decoder: { kind: 'binary', layout: ['uint8 -', 'int16le temperature / 100', 'uint16le humidity / 10'], exactLength: true },
        transport: { kind: 'serial', baud: 57600, framing: { kind }, checksum: { kind: 'crc16', variant: 'modbus' } },
        metrics: { temperature: { unit: '°C' } },
      };
      const t = testPipeline([profile]);
      pair = await ptyPair();
      h = await startSerial({ path: pair.device, device: `n-${kind}`, profile: profile.name }, [profile], t.pipeline.ingest);
      const record = (id: number, temp: number, hum: number) => {
        const b = Buffer.alloc(5);
        b.writeUInt8(id);
        b.writeInt16LE(temp, 1);
        b.writeUInt16LE(hum, 3);
        return Buffer.concat([b, crc16Bytes(crc16(b, 'modbus'), 'modbus')]);
      };
      const encode = kind === 'slip' ? slipEncode : cobsEncode;
      // 0xC0 and 0x00 inside the payloads exercise the escaping
      const bad = record(2, 0x00c0, 0);
      bad[2] = bad[2]! ^ 0x04;
      await pair.write(Buffer.concat([encode(record(1, 2150, 405)), encode(bad), encode(record(3, -0x3f40, 0))]));
      await eventually(() => t.readings.length === 4, 3000, 'two records');
      expect(t.readings.map((r) => [r.metric, r.value])).toEqual([
        ['temperature', 21.5],
        ['humidity', 40.5],
        ['temperature', -161.92],
        ['humidity', 0],
      ]);
      expect(h.source.status().counters.checksumErrors).toBe(1);
    });
  }

  it('takes an Arduino CSV header line and decodes the lines after it', async () => {
    const profile: DeviceProfile = { name: 'uno-csv', decoder: { kind: 'csv-header' }, transport: { kind: 'serial', headerLine: true } };
    const t = testPipeline([profile]);
    pair = await ptyPair();
    h = await startSerial({ path: pair.device, device: 'uno-1', profile: 'uno-csv' }, [profile], t.pipeline.ingest);
    await pair.write('21.0,40\ntemp,hum\n21.5,41\n');
    await sleep(50);
    // the sketch resets and prints a new header with another column
    await pair.write('temp,hum,soil\n21.6,42,300\n');
    await eventually(() => t.readings.length === 5, 3000, 'five readings');
    expect(t.readings.map((r) => `${r.metric}=${r.value}`)).toEqual(['temp=21.5', 'hum=41', 'temp=21.6', 'hum=42', 'soil=300']);
    expect(h.codes()).toEqual(['NO_HEADER_YET']);
    expect(h.source.status().counters.headers).toBe(2);
  });
});
