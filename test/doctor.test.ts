/** `weir doctor` probes against fake device trees, a real pty, and stubbed time sources. */
import { afterAll, describe, expect, it } from 'vitest';
import { chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeSerialPorts, probeGpio, probeDataDir, probeClock, runDoctor, formatFindings, exitCodeFor } from '../gateway/doctor/index.js';
import { ptyPair } from './lib/pty.js';

const root = mkdtempSync(join(tmpdir(), 'weir-doctor-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const groupFile = join(root, 'group');
writeFileSync(groupFile, 'root:x:0:\ndialout:x:20:\ngpio:x:997:\n');

function devTree(): string {
  const dev = mkdtempSync(join(root, 'dev-'));
  mkdirSync(join(dev, 'serial', 'by-id'), { recursive: true });
  for (const n of ['ttyUSB0', 'ttyACM0', 'ttyS5', 'gpiochip0']) writeFileSync(join(dev, n), '');
  chownSync(join(dev, 'ttyACM0'), 0, 20);
  chownSync(join(dev, 'gpiochip0'), 0, 997);
  symlinkSync('../../ttyUSB0', join(dev, 'serial', 'by-id', 'usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0'));
  return dev;
}

describe('serial ports probe', () => {
  it('lists adapters by their by-id name, says which group fixes access, and fails a missing configured port', () => {
    const dev = devTree();
    const byId = join(dev, 'serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0');
    const findings = probeSerialPorts({ configured: [byId, join(dev, 'ttyUSB9')], devDir: dev, groupFile, canAccess: (p) => !p.endsWith('ttyACM0') });
    expect(findings.map((f) => [f.status, f.detail.replaceAll(dev, '/dev')])).toEqual([
      ['ok', '/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0 -> /dev/ttyUSB0 (configured): -rw-r--r-- group root, readable and writable'],
      ['fail', '/dev/ttyUSB9 (configured) does not exist: unplugged, or another name? ls -l /dev/serial/by-id'],
      ['warn', expect.stringMatching(/^\/dev\/ttyACM0: -rw-r--r-- group dialout, not readable and writable by this user; add the user to group dialout: sudo usermod -aG dialout \S+ \(then log in again \/ restart weir\)$/)],
    ]);
    expect(exitCodeFor(findings)).toBe(1);
  });

  it('opens a real pty the gateway is configured for', async () => {
    const pair = await ptyPair();
    try {
      const [f] = probeSerialPorts({ configured: [pair.device], devDir: join(root, 'empty') });
      expect(f).toMatchObject({ check: 'serial.port', status: 'ok' });
      expect(f!.detail).toMatch(/-> \/dev\/pts\/\d+ \(configured\): crw-.*readable and writable/);
    } finally {
      await pair.dispose();
    }
  });
});

describe('GPIO probe', () => {
  it('reports the sysfs base of a Pi 5 and the character devices', () => {
    const dev = devTree();
    const sys = join(root, 'sys-gpio');
    mkdirSync(join(sys, 'gpiochip571'), { recursive: true });
    writeFileSync(join(sys, 'export'), '');
    for (const [f, v] of Object.entries({ base: '571', label: 'pinctrl-rp1', ngpio: '54' })) writeFileSync(join(sys, 'gpiochip571', f), `${v}\n`);
    const findings = probeGpio({ pins: 2, sysfsRoot: sys, devDir: dev, groupFile, canAccess: (p) => !p.endsWith('gpiochip0'), gpiodetect: '/nonexistent/gpiodetect' });
    expect(findings.map((f) => [f.check, f.status])).toEqual([
      ['gpio.sysfs', 'ok'],
      ['gpio.chardev', 'warn'],
      ['gpio.tools', 'ok'],
    ]);
    expect(findings[0]!.detail).toContain('BCM pin N is sysfs 571+N (BCM 17 = 588) on pinctrl-rp1');
    expect(findings[1]!.detail).toContain('sudo usermod -aG gpio');
  });

  it('fails only when pins are configured on a machine without GPIO', () => {
    const none = { sysfsRoot: join(root, 'nope'), devDir: join(root, 'nope') };
    expect(probeGpio({ pins: 0, ...none })).toEqual([{ check: 'gpio', status: 'ok', detail: expect.stringContaining('no GPIO on this machine') }]);
    expect(probeGpio({ pins: 3, ...none })[0]).toMatchObject({ status: 'fail', detail: expect.stringContaining('3 configured pins will be disabled') });
  });
});

describe('data directory probe', () => {
  it('writes a file for real and reports free space against thresholds', () => {
    const dir = join(root, 'data', 'nested');
    const ok = probeDataDir({ dir });
    expect(ok.map((f) => [f.check, f.status])).toEqual([
      ['data-dir.writable', 'ok'],
      ['data-dir.free-space', 'ok'],
    ]);
    expect(probeDataDir({ dir, warnBelowBytes: Number.MAX_SAFE_INTEGER })[1]!.status).toBe('warn');
    expect(probeDataDir({ dir, warnBelowBytes: Number.MAX_SAFE_INTEGER, failBelowBytes: Number.MAX_SAFE_INTEGER })[1]!.status).toBe('fail');
  });
  it('fails a directory that cannot be written', () => {
    expect(probeDataDir({ dir: '/proc/weir-data' })).toEqual([{ check: 'data-dir.writable', status: 'fail', detail: expect.stringContaining('/proc/weir-data is not writable') }]);
  });
});

describe('clock probe', () => {
  const at = Date.UTC(2026, 0, 10);
  it('fails a clock earlier than the build', () => {
    expect(probeClock({ now: Date.UTC(2023, 0, 1), notBefore: at })[0]).toMatchObject({ status: 'fail', detail: expect.stringContaining('never set') });
  });
  it('trusts timedatectl, then the timesyncd flag, and otherwise says it does not know', () => {
    const base = { now: at + 1, notBefore: at };
    expect(probeClock({ ...base, timedatectl: () => 'NTP=yes\nNTPSynchronized=yes\n' })[0]!.status).toBe('ok');
    expect(probeClock({ ...base, timedatectl: () => 'NTP=no\nNTPSynchronized=no\n' })[0]).toMatchObject({ status: 'warn', detail: expect.stringContaining('set-ntp true') });
    const flag = join(root, 'synchronized');
    writeFileSync(flag, '');
    expect(probeClock({ ...base, timedatectl: () => undefined, syncedFlag: flag })[0]!.status).toBe('ok');
    expect(probeClock({ ...base, timedatectl: () => undefined, syncedFlag: join(root, 'none') })[0]).toMatchObject({ status: 'warn', detail: expect.stringContaining('unknown') });
  });
});

describe('runDoctor on this machine', () => {
  it('returns structured findings for every area and prints them', () => {
    const findings = runDoctor({ dataDir: join(root, 'data2'), serialPaths: [], gpioPins: 0 });
    const areas = new Set(findings.map((f) => f.check.split('.')[0]));
    expect([...areas].sort()).toEqual(['clock', 'data-dir', 'gpio', 'serial']);
    for (const f of findings) expect(['ok', 'warn', 'fail']).toContain(f.status);
    expect(formatFindings(findings)).toMatch(/^\[(ok  |warn|fail)\] /m);
  });
});
