/**
 * A port's effective settings: the `serial:` entry overrides its profile's
 * `transport`, which overrides the defaults. Binding problems (unknown profile,
 * a GPIO profile on a serial port) are returned with the config path they
 * belong to, so the config loader can report them at file:line:col.
 */
import { parseDuration } from '../../gateway/core/units.js';
import type { DeviceProfile } from '../profiles/schema.js';
import type { Checksum, Framing, SerialPortConfig } from './schema.js';

export interface SerialSettings {
  readonly path: string;
  readonly device: string;
  readonly profile: string;
  readonly baud: number;
  readonly dataBits: 5 | 6 | 7 | 8;
  readonly parity: 'none' | 'even' | 'odd';
  readonly stopBits: 1 | 1.5 | 2;
  readonly framing: Framing;
  readonly checksum: Checksum | undefined;
  readonly headerLine: boolean;
  readonly poll: { readonly request: Buffer; readonly everyMs: number; readonly timeoutMs: number } | undefined;
  /** 0 = no silence watchdog. */
  readonly silenceMs: number;
  readonly reopen: { readonly initialMs: number; readonly maxMs: number };
}

export interface BindingProblem {
  /** Path inside the `serial:` entry (or `gpio.pins` entry), e.g. `['profile']`. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export function resolveSerialSettings(
  port: SerialPortConfig,
  profiles: readonly DeviceProfile[],
): { settings: SerialSettings; problems: readonly BindingProblem[] } | { settings?: undefined; problems: readonly BindingProblem[] } {
  const profile = profiles.find((p) => p.name === port.profile);
  if (!profile) return { problems: [{ path: ['profile'], message: `no device profile is named ${JSON.stringify(port.profile)}` }] };
  if (profile.transport && profile.transport.kind !== 'serial') {
    return { problems: [{ path: ['profile'], message: `profile ${profile.name} describes a ${profile.transport.kind} device, not a serial one` }] };
  }
  const t = profile.transport?.kind === 'serial' ? profile.transport : undefined;
  const framing = port.framing ?? t?.framing ?? { kind: 'lf' };
  const headerLine = port.headerLine ?? t?.headerLine ?? false;
  const pollSpec = port.poll ?? t?.poll;
  const silence = port.silence ?? t?.silence;
  const problems: BindingProblem[] = [];
  if (profile.decoder.kind === 'csv-header' && !headerLine) problems.push({ path: ['headerLine'], message: `profile ${profile.name} decodes CSV by header; set headerLine: true` });
  if (headerLine && framing.kind !== 'lf' && framing.kind !== 'crlf') problems.push({ path: ['headerLine'], message: 'a header line needs line framing (lf or crlf)' });
  let poll: SerialSettings['poll'];
  if (pollSpec) {
    const request = pollSpec.encoding === 'hex' ? hexOrUndefined(pollSpec.request) : Buffer.from(pollSpec.request, 'utf8');
    const everyMs = parseDuration(pollSpec.every);
    const timeoutMs = parseDuration(pollSpec.timeout);
    if (!request) problems.push({ path: ['poll', 'request'], message: 'not an even number of hex digits' });
    if (timeoutMs >= everyMs) problems.push({ path: ['poll', 'timeout'], message: 'the timeout must be shorter than the poll interval' });
    if (everyMs < 10) problems.push({ path: ['poll', 'every'], message: 'poll at most every 10ms' });
    if (request) poll = { request, everyMs, timeoutMs };
  }
  if (problems.length > 0) return { problems };
  return {
    problems,
    settings: {
      path: port.path,
      device: port.device,
      profile: profile.name,
      baud: port.baud ?? t?.baud ?? 9600,
      dataBits: port.dataBits ?? t?.dataBits ?? 8,
      parity: port.parity ?? t?.parity ?? 'none',
      stopBits: port.stopBits ?? t?.stopBits ?? 1,
      framing,
      checksum: port.checksum ?? t?.checksum,
      headerLine,
      poll,
      silenceMs: silence === undefined ? 0 : parseDuration(silence),
      reopen: { initialMs: parseDuration(port.reopen?.initial ?? '500ms'), maxMs: parseDuration(port.reopen?.max ?? '30s') },
    },
  };
}

/** Every binding problem of the `serial:` list, with paths from the list's root (`[0, 'profile']`). */
export function serialBindingProblems(ports: readonly SerialPortConfig[], profiles: readonly DeviceProfile[]): BindingProblem[] {
  const out: BindingProblem[] = [];
  const seen = new Map<string, number>();
  ports.forEach((port, i) => {
    for (const p of resolveSerialSettings(port, profiles).problems) out.push({ path: [i, ...p.path], message: p.message });
    const other = seen.get(port.path);
    if (other !== undefined) out.push({ path: [i, 'path'], message: `port ${port.path} is already bound by entry ${other}` });
    seen.set(port.path, i);
  });
  return out;
}

function hexOrUndefined(text: string): Buffer | undefined {
  return /^([0-9A-Fa-f]{2})+$/.test(text) ? Buffer.from(text, 'hex') : undefined;
}
