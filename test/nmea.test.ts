/**
 * The NMEA decoder on sentences captured from real receivers: a u-blox log
 * (GNRMC/GNGGA, RTK-capable), a u-blox 6 without a fix, and the classic
 * sentences of the NMEA reference, plus corrupted and truncated copies.
 */
import { describe, expect, it } from 'vitest';
import { NmeaDecoder } from '../devices/decoders/nmea.js';
import { nmeaChecksumProblem, withNmeaChecksum } from '../devices/decoders/checksums/nmea-checksum.js';
import type { DecodeResult } from '../gateway/core/contracts.js';

// Captured from a u-blox receiver logging at 1 Hz (27 Oct 2020, DGPS fix, 17 satellites)
const UBLOX_GGA = '$GNGGA,103309.000,4935.780351,N,00700.812390,E,2,17,0.72,465.352,M,47.791,M,,*70';
const UBLOX_RMC = '$GNRMC,103309.000,A,4935.780351,N,00700.812390,E,0.01,58.03,271020,,,D*41';
// u-blox NEO-6M indoors: no fix yet, NMEA 4.1 GSV with a signal id
const NO_FIX_GGA = '$GNGGA,,,,,,0,00,25.5,,,,,,*64';
const NO_SATS_GSV = '$GPGSV,1,1,00,0*65';
const RMC_2013 = '$GPRMC,144629.20,A,5156.91111,N,00434.80385,E,0.295,,011113,,,A*78';
// the NMEA reference sentences (Munich, 1994)
const REF_RMC = '$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A';
const REF_GSA = '$GPGSA,A,3,04,05,,09,12,,,24,,,,,2.5,1.3,2.1*39';
const REF_VTG = '$GPVTG,054.7,T,034.4,M,005.5,N,010.2,K*48';
const REF_GSV = '$GPGSV,2,1,08,01,40,083,46,02,17,308,41,12,07,344,39,14,22,228,45*75';
const REF_GLL = '$GPGLL,4916.45,N,12311.12,W,225444,A,*1D';

const d = new NmeaDecoder();
const decode = (s: string, dec = d) => dec.decode(Buffer.from(`${s}\r\n`, 'latin1'), { params: { device: 'gps' } });
const values = (r: DecodeResult) => (r.ok ? Object.fromEntries(r.readings.map((x) => [x.metric, x.value])) : r);

describe('nmea decoder on captured sentences', () => {
  it('reads a u-blox GGA: position, altitude, fix quality, satellites, HDOP', () => {
    expect(values(decode(UBLOX_GGA))).toEqual({ fix_quality: 2, satellites: 17, hdop: 0.72, lat: 49.5963392, lon: 7.0135398, altitude: 465.352 });
  });

  it('reads RMC with its UTC date and time as the event time, speed in m/s', () => {
    const r = decode(UBLOX_RMC);
    expect(values(r)).toEqual({ valid: true, lat: 49.5963392, lon: 7.0135398, speed: 0.005, course: 58.03 });
    expect(r.ok && r.readings[0]!.ts).toBe(Date.UTC(2020, 9, 27, 10, 33, 9));
    expect(r.ok && r.readings.find((x) => x.metric === 'lat')!.unit).toBe('deg');
    const ref = decode(REF_RMC);
    expect(values(ref)).toEqual({ valid: true, lat: 48.1173, lon: 11.5166667, speed: 11.524, course: 84.4 });
    expect(ref.ok && ref.readings[0]!.ts).toBe(Date.UTC(1994, 2, 23, 12, 35, 19));
    const cs = decode(RMC_2013);
    expect(cs.ok && cs.readings[0]!.ts).toBe(Date.UTC(2013, 10, 1, 14, 46, 29, 200));
  });

  it('reports no position without a fix, rather than 0,0', () => {
    expect(values(decode(NO_FIX_GGA))).toEqual({ fix_quality: 0, satellites: 0, hdop: 25.5 });
    expect(values(decode(NO_SATS_GSV))).toEqual({ satellites_in_view: 0 });
    expect(values(decode(withNmeaChecksum('$GPRMC,235947,V,,,,,,,,,,N')))).toEqual({ valid: false });
  });

  it('reads GSA, VTG, GSV and GLL', () => {
    expect(values(decode(REF_GSA))).toEqual({ fix_type: 3, satellites_used: 5, pdop: 2.5, hdop: 1.3, vdop: 2.1 });
    expect(values(decode(REF_VTG))).toEqual({ course: 54.7, speed: 2.833 });
    expect(values(decode(REF_GSV))).toEqual({ satellites_in_view: 8 });
    expect(values(decode(REF_GLL))).toEqual({ valid: true, lat: 49.2741667, lon: -123.1853333 });
  });

  it('rejects a corrupted sentence by its checksum, and a sentence without one', () => {
    // one digit of the latitude flipped in transit, checksum left as sent
    const corrupted = UBLOX_GGA.replace('4935.780351', '4935.780851');
    expect(decode(corrupted)).toMatchObject({ ok: false, code: 'CHECKSUM_MISMATCH' });
    expect(decode(UBLOX_RMC.slice(0, -3))).toMatchObject({ ok: false, code: 'NO_CHECKSUM' });
    expect(decode(UBLOX_RMC.slice(0, -3), new NmeaDecoder({ requireChecksum: false })).ok).toBe(true);
    expect(decode(UBLOX_RMC.replace('*41', '*4G'))).toMatchObject({ ok: false, code: 'CHECKSUM_MISMATCH' });
    expect(decode('GNRMC,garbage')).toMatchObject({ ok: false, code: 'NOT_NMEA' });
  });

  it('rejects a truncated or unreadable sentence that still sums correctly', () => {
    expect(decode(withNmeaChecksum('$GNGGA,103309.000,4935.78'))).toMatchObject({ ok: false, code: 'MALFORMED_SENTENCE' });
    expect(decode(withNmeaChecksum('$GPRMC,123519,A,48x7.038,N,01131.000,E,022.4,084.4,230394,003.1,W'))).toMatchObject({
      ok: false,
      code: 'MALFORMED_SENTENCE',
      message: expect.stringContaining('latitude'),
    });
  });

  it('ignores proprietary and unselected sentences without an error', () => {
    expect(decode(withNmeaChecksum('$PUBX,00,103309.00,4935.78035,N'))).toEqual({ ok: true, readings: [] });
    expect(decode(withNmeaChecksum('$GPTXT,01,01,02,ANTSTATUS=OK'))).toEqual({ ok: true, readings: [] });
    expect(decode(REF_GSA, new NmeaDecoder({ sentences: ['RMC'] }))).toEqual({ ok: true, readings: [] });
  });

  it('computes checksums the way receivers do', () => {
    for (const s of [UBLOX_GGA, UBLOX_RMC, NO_FIX_GGA, NO_SATS_GSV, RMC_2013, REF_RMC, REF_GSA, REF_VTG, REF_GSV, REF_GLL]) {
      expect(nmeaChecksumProblem(s, true)).toBeUndefined();
      expect(withNmeaChecksum(s.slice(0, s.lastIndexOf('*')))).toBe(s);
    }
  });
});
