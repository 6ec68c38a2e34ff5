/**
 * NMEA 0183 sentences from metric values, as a GPS receiver prints them, with
 * the `*hh` checksum the gateway verifies (the pure helper from devices/decoders).
 * Each sentence lists the metrics the gateway's NMEA decoder takes from it.
 */
import { withNmeaChecksum } from '../../devices/decoders/checksums/nmea-checksum.js';
import type { SignalStep } from '../signals/schema.js';

export type NmeaSentence = 'RMC' | 'GGA' | 'GLL' | 'VTG' | 'GSA' | 'GSV';

const KNOTS_PER_MS = 3600 / 1852;

export interface NmeaFix {
  readonly lat: number;
  readonly lon: number;
  readonly speed: number;
  readonly course: number;
  readonly altitude: number;
  readonly satellites: number;
  readonly hdop: number;
  readonly pdop: number;
  readonly vdop: number;
  readonly fixQuality: number;
}

/** A GPS parked near Munich with a little wander, when a scenario says nothing else. */
export const NMEA_DEFAULT_SIGNALS: Readonly<Record<string, SignalStep[]>> = {
  lat: [{ kind: 'constant', value: 48.1173 }, { kind: 'walk', min: -0.001, max: 0.001, step: 0.00005 }],
  lon: [{ kind: 'constant', value: 11.5167 }, { kind: 'walk', min: -0.001, max: 0.001, step: 0.00005 }],
  speed: [{ kind: 'walk', min: 0, max: 30, step: 1 }, { kind: 'quantize', step: 0.1 }],
  course: [{ kind: 'walk', min: 0, max: 359, step: 5 }, { kind: 'quantize', step: 0.1 }],
  altitude: [{ kind: 'walk', min: 500, max: 560, step: 0.5 }, { kind: 'quantize', step: 0.1 }],
  satellites: [{ kind: 'walk', min: 4, max: 12, step: 0.5 }, { kind: 'quantize', step: 1 }],
  hdop: [{ kind: 'walk', min: 0.8, max: 2.5, step: 0.05 }, { kind: 'quantize', step: 0.1 }],
};

export function fixFrom(values: Readonly<Record<string, number>>): NmeaFix {
  const v = (name: string, fallback: number) => values[name] ?? fallback;
  const hdop = v('hdop', 1);
  return {
    lat: v('lat', 48.1173),
    lon: v('lon', 11.5167),
    speed: Math.max(0, v('speed', 0)),
    course: ((v('course', 0) % 360) + 360) % 360,
    altitude: v('altitude', 545.4),
    satellites: Math.max(0, Math.round(v('satellites', 8))),
    hdop,
    pdop: v('pdop', Math.round(hdop * 15) / 10),
    vdop: v('vdop', Math.round(hdop * 12) / 10),
    fixQuality: Math.round(v('fix_quality', 1)),
  };
}

/** One sentence and the metrics the decoder reads from it. */
export function nmeaSentence(type: NmeaSentence, fix: NmeaFix, ts: number, talker = 'GP'): { text: string; metrics: string[] } {
  const d = new Date(ts);
  const time = `${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}.${pad(Math.floor(d.getUTCMilliseconds() / 10), 2)}`;
  const date = `${pad(d.getUTCDate(), 2)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCFullYear() % 100, 2)}`;
  const [lat, ns] = coordinate(fix.lat, 2, 'N', 'S');
  const [lon, ew] = coordinate(fix.lon, 3, 'E', 'W');
  const knots = (fix.speed * KNOTS_PER_MS).toFixed(2);
  const course = fix.course.toFixed(1);
  const sats = Math.min(fix.satellites, 12);
  let fields: (string | number)[];
  let metrics: string[];
  switch (type) {
    case 'RMC':
      fields = ['RMC', time, 'A', lat, ns, lon, ew, knots, course, date, '', '', 'A'];
      metrics = ['valid', 'lat', 'lon', 'speed', 'course'];
      break;
    case 'GGA':
      fields = ['GGA', time, lat, ns, lon, ew, fix.fixQuality, pad(fix.satellites, 2), fix.hdop.toFixed(1), fix.altitude.toFixed(1), 'M', '47.0', 'M', '', ''];
      metrics = fix.fixQuality === 0 ? ['fix_quality', 'satellites', 'hdop'] : ['fix_quality', 'satellites', 'hdop', 'lat', 'lon', 'altitude'];
      break;
    case 'GLL':
      fields = ['GLL', lat, ns, lon, ew, time, 'A', 'A'];
      metrics = ['valid', 'lat', 'lon'];
      break;
    case 'VTG':
      fields = ['VTG', course, 'T', '', 'M', knots, 'N', (fix.speed * 3.6).toFixed(2), 'K', 'A'];
      metrics = ['course', 'speed'];
      break;
    case 'GSA': {
      const prns = Array.from({ length: 12 }, (_, i) => (i < sats ? pad(i + 1, 2) : ''));
      fields = ['GSA', 'A', 3, ...prns, fix.pdop.toFixed(1), fix.hdop.toFixed(1), fix.vdop.toFixed(1)];
      metrics = ['fix_type', 'satellites_used', 'pdop', 'hdop', 'vdop'];
      break;
    }
    case 'GSV':
      fields = ['GSV', 1, 1, pad(fix.satellites, 2)];
      metrics = ['satellites_in_view'];
      break;
  }
  fields[0] = `${talker}${fields[0]}`;
  return { text: withNmeaChecksum(`$${fields.join(',')}`), metrics };
}

/** Signed degrees to `ddmm.mmmm,N`; minutes that round to 60 carry into the degrees. */
function coordinate(deg: number, degreeDigits: number, positive: string, negative: string): [string, string] {
  const abs = Math.abs(deg);
  let whole = Math.floor(abs);
  let minutes = Number(((abs - whole) * 60).toFixed(4));
  if (minutes >= 60) (whole += 1), (minutes = 0);
  return [`${pad(whole, degreeDigits)}${minutes.toFixed(4).padStart(7, '0')}`, deg < 0 ? negative : positive];
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
