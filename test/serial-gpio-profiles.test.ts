/**
 * The shipped device profiles load through the same schema and checks as any
 * `profileFiles:` entry, and serial/GPIO bindings are checked against them.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '../gateway/config/load.js';
import { formatProblem } from '../gateway/core/yaml-source.js';
import { serialBindingProblems } from '../devices/serial/settings.js';
import { ProfileRouter } from '../devices/profiles/router.js';
import { LIBRARY_DIR, libraryProfiles } from './lib/bound-pipeline.js';
import { BINARY_FIELD_PATTERN } from '../devices/profiles/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'weir-profiles-'));
function load(yaml: string) {
  const file = join(dir, 'weir.yaml');
  writeFileSync(file, yaml);
  return loadConfigFile(file, {});
}

describe('the shipped profile library', () => {
  it('loads every profile through profileFiles with no problem', () => {
    const r = load(`profileFiles: ["${LIBRARY_DIR}/*.yaml"]\n`);
    expect(r.ok ? [] : r.problems.map(formatProblem)).toEqual([]);
    if (!r.ok) return;
    expect(r.loaded.profiles.map((p) => [p.name, p.transport?.kind ?? 'mqtt']).sort()).toEqual([
      ['gpio-button', 'gpio'],
      ['gpio-relay', 'gpio'],
      ['json-serial-sensor', 'serial'],
      ['nmea-gps', 'serial'],
      ['tasmota-plug', 'mqtt'],
    ]);
  });

  it('routes Tasmota plug telemetry by topic and the others only by binding', () => {
    const router = new ProfileRouter(libraryProfiles());
    expect(router.filters()).toEqual(['tele/+/SENSOR']);
    const plug = router.route(
      'tele/kitchen-plug/SENSOR',
      Buffer.from('{"Time":"2024-01-14T10:22:33","ENERGY":{"TotalStartTime":"2023-01-01T00:00:00","Total":12.345,"Yesterday":0.5,"Today":0.1,"Power":42,"ApparentPower":50,"ReactivePower":10,"Factor":0.84,"Voltage":231,"Current":0.2}}'),
    );
    expect(plug.kind === 'readings' && plug.readings.map((r) => `${r.metric}=${r.value}${r.unit ?? ''}`)).toEqual([
      'power=42W',
      'voltage=231V',
      'current=0.2A',
      'power_factor=0.84',
      'energy_today=0.1kWh',
      'energy_total=12.345kWh',
    ]);
    expect(router.decodeAs('gpio-button', 'door', Buffer.from('true'))).toMatchObject({ kind: 'readings', readings: [{ device: 'door', metric: 'pressed', value: true }] });
    expect(router.decodeAs('no-such', 'x', Buffer.from('1'))).toEqual({ kind: 'unrouted' });
  });
});

describe('profile and binding checks', () => {
  it('requires a topic or a transport', () => {
    const r = load('profiles:\n  - { name: nothing, decoder: { kind: json } }\n');
    expect(r.ok ? [] : r.problems.map((p) => formatProblem({ ...p, file: 'weir.yaml' }))).toEqual([
      'weir.yaml:2:5: profiles.0: a profile needs `topic` (MQTT devices) or `transport` (serial and GPIO devices)',
    ]);
  });

  it('checks serial transport settings and binary layouts by the schema, at file:line:col', () => {
    const r = load(
      [
        'profiles:',
        '  - name: bad-serial',
        '    decoder: { kind: json }',
        '    transport: { kind: serial, baud: 12, framing: { kind: slip, maxLength: 0 }, checksum: { kind: crc16, variant: ibm } }',
        '  - { name: bad-layout, decoder: { kind: binary, layout: ["int24le x"] }, transport: { kind: serial } }',
        '',
      ].join('\n'),
    );
    // nested kind-unions (framing, checksum) are narrowed to the chosen kind: core/validate narrows only the outer one
    expect(r.ok ? [] : r.problems.map((p) => formatProblem({ ...p, file: 'weir.yaml' }))).toEqual([
      'weir.yaml:4:38: profiles.0.transport.baud: expected integer to be greater or equal to 50',
      'weir.yaml:4:76: profiles.0.transport.framing.maxLength: expected integer to be greater or equal to 1',
      'weir.yaml:4:115: profiles.0.transport.checksum.variant: "ibm" is not one of "modbus", "ccitt-false", "xmodem"',
      `weir.yaml:5:59: profiles.1.decoder.layout.0: "int24le x" does not match the pattern ${BINARY_FIELD_PATTERN}`,
    ]);
  });

  it('checks that a serial port names a serial profile and sensible polling', () => {
    const profiles = libraryProfiles();
    expect(
      serialBindingProblems(
        [
          { path: '/dev/ttyUSB0', device: 'a', profile: 'gpio-relay' },
          { path: '/dev/ttyUSB0', device: 'b', profile: 'json-serial-sensor', poll: { request: 'zz', encoding: 'hex', every: '1s', timeout: '2s' } },
          { path: '/dev/ttyACM0', device: 'c', profile: 'missing' },
        ],
        profiles,
      ),
    ).toEqual([
      { path: [0, 'profile'], message: 'profile gpio-relay describes a gpio device, not a serial one' },
      { path: [1, 'poll', 'request'], message: 'not an even number of hex digits' },
      { path: [1, 'poll', 'timeout'], message: 'the timeout must be shorter than the poll interval' },
      { path: [1, 'path'], message: 'port /dev/ttyUSB0 is already bound by entry 0' },
      { path: [2, 'profile'], message: 'no device profile is named "missing"' },
    ]);
  });
});
