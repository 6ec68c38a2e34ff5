/**
 * The Debian package as an operator meets it: built by deploy/package/build.sh,
 * read with dpkg-deb and lintian, installed into this machine with dpkg -i,
 * its unit's ExecStart run by hand as the weir user (no systemd runs here),
 * upgraded in place, purged; then installed again by the first-boot hook from
 * a fake boot partition. Where systemd-nspawn is available the same package
 * also runs under a real systemd, installed by the first-boot hook inside the
 * container (test/lib/nspawn.ts). Needs root; one run per machine at a time
 * (a flock), and every step that changes the system is undone in afterAll,
 * whatever failed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { client, collector, eventually, metricValue, sleep } from './lib/mqtt.js';
import { exited, freePort, killChild, run, waitForPort } from './lib/processes.js';
import { bootContainer, prepareContainer, type Container } from './lib/nspawn.js';

const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const debVersion = `${pkg.version.replace('-', '~')}-1`;
const isRoot = process.getuid?.() === 0;
const canRun = isRoot && existsSync('/usr/bin/dpkg-deb') && existsSync('/usr/bin/mosquitto_pub');
const has = (bin: string) => existsSync(bin);

let work: string;
let deb: string;
let service: ChildProcess | undefined;

/** Runs a command to completion and returns its output; rejects with both streams on failure. */
async function sh(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(cmd, args, { cwd: root, maxBuffer: 32 * 1024 * 1024, timeout: options.timeout ?? 120_000, ...(options.env ? { env: options.env } : {}) });
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

/** dpkg, retried while another apt or dpkg (a concurrent suite) holds the lock. */
async function dpkg(args: string[]): Promise<{ stdout: string; stderr: string }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await sh('dpkg', args);
    } catch (e) {
      if (attempt < 30 && /lock/i.test((e as Error).message)) await sleep(2000);
      else throw e;
    }
  }
}

const installed = async () => (await run('dpkg-query', ['-W', '-f=${db:Status-Status}', 'weir']).catch(() => ({ stdout: '' }))).stdout;
const userExists = async () => (await run('getent', ['passwd', 'weir']).then(() => true, () => false));

/** The service's settings as the unit file says them, so the test follows the unit. */
function unitSettings(file: string) {
  const text = readFileSync(file, 'utf8');
  const one = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(text)?.[1] ?? '';
  const env = Object.fromEntries([...text.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  return { execStart: one('ExecStart').split(' '), user: one('User'), workingDirectory: one('WorkingDirectory'), timeoutStopSec: one('TimeoutStopSec'), env, text };
}

/** Installs Debian packages the optional checks use when the machine lacks them and apt works. */
async function tryInstall(pkgs: string[]): Promise<void> {
  await sh('bash', ['-c', `source test/lib/ensure-debian-packages.sh && ensure_debian_packages ${pkgs.join(' ')}`], { timeout: 300_000 }).catch((e: Error) => console.warn(`optional tools not installed: ${e.message.slice(0, 300)}`));
}

/**
 * One run at a time per machine: two copies of this suite (another session's `npm test`)
 * would install and purge the same package under each other. flock's child holds the
 * lock until its stdin closes, which also happens if this process dies.
 */
let lock: ChildProcess | undefined;
async function lockTheMachine(): Promise<void> {
  lock = spawn('flock', ['-w', '1200', '/run/lock/weir-deploy-package-test.lock', '-c', 'echo locked; exec cat'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    lock!.stdout!.once('data', () => resolve());
    lock!.once('exit', (code) => reject(new Error(`could not lock the machine for the package tests (flock exited ${code})`)));
  });
}

async function purge(): Promise<void> {
  if (await installed()) await dpkg(['--purge', 'weir']);
}

beforeAll(async () => {
  if (!canRun) return;
  await lockTheMachine();
  if ((await installed()) || existsSync('/etc/weir') || existsSync('/etc/default/weir')) {
    throw new Error('weir is (or was) installed on this machine (package, /etc/weir or /etc/default/weir); this suite installs and purges its own: remove those first');
  }
  work = mkdtempSync(join(tmpdir(), 'weir-deb-'));
  await tryInstall(['lintian:/usr/bin/lintian', 'systemd:/usr/bin/systemd-analyze']);
  await sh('bash', ['deploy/package/build.sh', '--arch', 'amd64', '--out', join(work, 'out')], { timeout: 300_000 });
  deb = join(work, 'out', `weir_${debVersion}_amd64.deb`);
}, 1_800_000);

afterAll(async () => {
  await killChild(service);
  if (canRun && work) {
    await purge();
    // what the first-boot hook copied besides the package's own files (profiles, the environment)
    rmSync('/etc/default/weir', { force: true });
    rmSync('/etc/weir', { recursive: true, force: true });
  }
  if (work) rmSync(work, { recursive: true, force: true });
  lock?.stdin?.end();
}, 120_000);

// Installing a package needs root and dpkg; CI runs as root, so there these always run.
describe.skipIf(!canRun)('the amd64 package', () => {
  it('has the metadata apt needs', async () => {
    const { stdout } = await sh('dpkg-deb', ['--info', deb]);
    const field = (name: string) => new RegExp(`^ ${name}: (.*)$`, 'm').exec(stdout)?.[1];
    expect(field('Package')).toBe('weir');
    expect(field('Version')).toBe(debVersion);
    expect(field('Architecture')).toBe('amd64');
    expect(field('Maintainer')).toMatch(/^.+ <[^@ ]+@[^@ ]+>$/);
    expect(field('Description')).toMatch(/IoT edge gateway/);
    const depends = field('Depends')!.split(', ');
    expect(depends).toEqual(expect.arrayContaining(['nodejs (>= 20.11)', 'adduser', 'libgcc-s1']));
    // computed from the symbols the shipped addons use
    expect(depends.find((d) => d.startsWith('libc6'))).toMatch(/^libc6 \(>= 2\.\d+\)$/);
    expect(field('Installed-Size')).toMatch(/^\d+$/);
    const { stdout: conffiles } = await sh('bash', ['-c', `dpkg-deb --ctrl-tarfile '${deb}' | tar -xO ./conffiles`]);
    expect(conffiles.trim().split('\n')).toEqual(['/etc/weir/weir.yaml']);
  });

  it('holds the bundle, the addons for amd64 only, the unit, the config and the docs, with Debian modes', async () => {
    const { stdout } = await sh('dpkg-deb', ['--contents', deb]);
    const entries = new Map(
      stdout
        .trim()
        .split('\n')
        .map((line) => {
          const [mode, owner, , , , ...rest] = line.split(/\s+/);
          return [rest.join(' ').replace(/^\.\//, '/').replace(/ -> .*$/, ''), { mode: mode!, owner: owner! }] as const;
        }),
    );
    expect([...entries.values()].every((e) => e.owner === 'root/root')).toBe(true);
    const expected: Record<string, string> = {
      '/usr/bin/weir': '-rwxr-xr-x',
      '/usr/lib/weir/weir.js': '-rw-r--r--',
      '/usr/lib/weir/package.json': '-rw-r--r--',
      '/usr/lib/weir/workers/pino-worker.cjs': '-rw-r--r--',
      '/usr/lib/weir/workers/thread-stream-worker.cjs': '-rw-r--r--',
      '/usr/lib/weir/node_modules/classic-level/prebuilds/linux-x64/classic-level.node': '-rw-r--r--',
      '/etc/weir/weir.yaml': '-rw-r--r--',
      '/etc/weir/rules/': 'drwxr-xr-x',
      '/etc/weir/profiles/': 'drwxr-xr-x',
      '/usr/lib/systemd/system/weir.service': '-rw-r--r--',
      '/usr/share/doc/weir/copyright': '-rw-r--r--',
      '/usr/share/doc/weir/changelog.Debian.gz': '-rw-r--r--',
      '/usr/share/doc/weir/changelog.gz': '-rw-r--r--',
      '/usr/share/man/man1/weir.1.gz': '-rw-r--r--',
    };
    for (const [path, mode] of Object.entries(expected)) expect(entries.get(path)?.mode, path).toBe(mode);
    // the device profile library, for people to copy into /etc/weir/profiles/
    for (const file of readdirSync(join(root, 'devices/profiles/library')).filter((f) => f.endsWith('.yaml'))) {
      expect(entries.get(`/usr/share/weir/profiles/${file}`)?.mode, file).toBe('-rw-r--r--');
    }
    const paths = [...entries.keys()];
    // nothing for another architecture, no musl builds, no machine-local build/, no data directory
    expect(paths.filter((p) => p.endsWith('.node')).every((p) => p.includes('/prebuilds/linux-x64/') && !p.includes('.musl.'))).toBe(true);
    expect(paths.filter((p) => /\/(build|deps|src)\/$/.test(p) && p.includes('/classic-level/'))).toEqual([]);
    expect(paths.some((p) => p.startsWith('/var/'))).toBe(false);
    expect(paths.some((p) => p.includes('/node_modules/epoll/') || p.includes('/node_modules/onoff/'))).toBe(false);
    expect(readFileSync(join(root, 'deploy/package/weir.yaml'), 'utf8')).toContain('dataDir: /var/lib/weir');
  });

  it('passes lintian without errors (warnings are reported, not failed)', async (ctx) => {
    // tryInstall puts lintian in place where apt works (CI); skipped only where it cannot
    if (!has('/usr/bin/lintian')) ctx.skip();
    const { stdout } = await run('lintian', ['--tag-display-limit', '0', deb], { maxBuffer: 8 * 1024 * 1024 }).catch((e: { stdout: string }) => ({ stdout: e.stdout }));
    const tags = stdout.split('\n').filter((l) => /^[EW]: /.test(l));
    if (tags.length) console.info(`lintian:\n${tags.join('\n')}`);
    expect(tags.filter((l) => l.startsWith('E: '))).toEqual([]);
  }, 120_000);

  it('installs with dpkg -i where no systemd runs: user, groups, data directory, enabled unit', async () => {
    const { stdout, stderr } = await dpkg(['-i', deb]);
    expect(`${stdout}${stderr}`).not.toMatch(/error|warning/i);
    expect(await installed()).toBe('installed');
    const passwd = (await sh('getent', ['passwd', 'weir'])).stdout.trim().split(':');
    expect(passwd[5]).toBe('/var/lib/weir');
    expect(passwd[6]).toBe('/usr/sbin/nologin');
    expect(Number(passwd[2])).toBeLessThan(1000);
    const groups = (await sh('id', ['-nG', 'weir'])).stdout.trim().split(' ');
    if ((await run('getent', ['group', 'dialout']).then(() => true, () => false))) expect(groups).toContain('dialout');
    const data = statSync('/var/lib/weir');
    expect(data.uid).toBe(Number(passwd[2]));
    expect(data.mode & 0o777).toBe(0o750);
    // deb-systemd-helper enables the unit for the next boot even with no systemd running
    if (has('/usr/bin/deb-systemd-helper')) {
      expect(readlinkSync('/etc/systemd/system/multi-user.target.wants/weir.service')).toMatch(/\/lib\/systemd\/system\/weir\.service$/);
    }
  }, 120_000);

  it('weir --version and weir check work from /usr/bin', async () => {
    expect((await sh('/usr/bin/weir', ['--version'])).stdout.trim()).toBe(pkg.version);
    expect((await sh('weir', ['check', '--config', '/etc/weir/weir.yaml'])).stdout).toContain('/etc/weir/weir.yaml: ok');
    const help = (await sh('weir', ['--help'])).stdout;
    if (/^\s+doctor\b/m.test(help)) {
      // as the service user, against the service's config; 1883 is taken on this machine, so no exit code is asserted
      const doctor = await run('setpriv', ['--reuid=weir', '--regid=weir', '--init-groups', '--', '/usr/bin/weir', 'doctor', '--config', '/etc/weir/weir.yaml', '--json'], { cwd: '/var/lib/weir' }).catch(
        (e: { stdout: string; stderr: string }) => e,
      );
      const { findings } = JSON.parse(doctor.stdout) as { findings: { check: string; status: string; detail: string }[] };
      console.info(`weir doctor (as weir, here):\n${findings.map((f) => `[${f.status}] ${f.check}  ${f.detail}`).join('\n')}`);
      expect(findings.find((f) => f.check === 'config')?.status).toBe('ok');
      const dataDir = findings.filter((f) => f.check.startsWith('data-dir'));
      expect(dataDir.length).toBeGreaterThan(0);
      expect(dataDir.filter((f) => f.status === 'fail')).toEqual([]);
    } else {
      console.info('weir doctor is not registered in this build; skipped');
    }
  });

  it('the unit file verifies and scores as hardened', async (ctx) => {
    // installed by tryInstall where apt works (CI); skipped only where it cannot be
    if (!has('/usr/bin/systemd-analyze')) ctx.skip();
    const verify = await sh('systemd-analyze', ['verify', '/usr/lib/systemd/system/weir.service']);
    expect(`${verify.stdout}${verify.stderr}`.split('\n').filter((l) => l.includes('weir.service'))).toEqual([]);
    const security = await run('systemd-analyze', ['security', '--offline=true', '/usr/lib/systemd/system/weir.service']).catch((e: { stdout: string }) => e);
    const score = /Overall exposure level for weir\.service: ([\d.]+)/.exec(security.stdout)?.[1];
    if (score) expect(Number(score)).toBeLessThan(3);
  });

  it("runs the unit's ExecStart as the weir user: ingests, republishes, counts, stops cleanly on SIGTERM", async () => {
    const unit = unitSettings('/usr/lib/systemd/system/weir.service');
    expect(unit.user).toBe('weir');
    expect(Number.parseInt(unit.timeoutStopSec, 10)).toBeGreaterThan(10); // above gateway.shutdownTimeout
    const mqttPort = await freePort();
    const httpPort = await freePort();
    const [command, ...args] = unit.execStart;
    // setpriv execs (no fork), so the pid is the service's main pid as systemd would see it
    service = spawn('setpriv', ['--reuid=weir', '--regid=weir', '--init-groups', '--', command!, ...args, '--mqtt-port', String(mqttPort), '--http-port', String(httpPort)], {
      cwd: unit.workingDirectory,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', ...unit.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    service.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    service.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await eventually(() => out.includes('weir is running.'), 15_000, `weir to start; output:\n${out}`);
    await waitForPort(mqttPort);

    const status = readFileSync(`/proc/${service.pid}/status`, 'utf8');
    const uid = (await sh('id', ['-u', 'weir'])).stdout.trim();
    expect(status).toMatch(new RegExp(`^Uid:\\s+${uid}\\s`, 'm'));
    expect(readFileSync(`/proc/${service.pid}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining(['/usr/lib/weir/weir.js']));
    // JSON lines for journald: stdout is not a terminal
    expect(JSON.parse(out.split('\n').find((l) => l.includes('weir is running.'))!)).toMatchObject({ service: 'weir', dataDir: '/var/lib/weir', version: pkg.version });

    const reader = await client(`mqtt://127.0.0.1:${mqttPort}`);
    try {
      const readings = await collector(reader, 'weir/readings/#');
      await sh('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(mqttPort), '-t', 'weir/greenhouse-1/telemetry', '-m', '{"temperature":21.5}']);
      const [message] = await readings.next(1);
      expect(message!.topic).toBe('weir/readings/greenhouse-1');
      expect(JSON.parse(message!.payload.toString())).toMatchObject({ kind: 'reading', device: 'greenhouse-1', metric: 'temperature', value: 21.5 });
    } finally {
      await reader.endAsync();
    }
    expect(await metricValue(`http://127.0.0.1:${httpPort}`, 'weir_readings_total')).toBe(1);

    service.kill('SIGTERM');
    expect(await exited(service, 15_000)).toBe(0);
    expect(out).toContain('Stopped cleanly.');
    // what it keeps lives in the state directory, owned by the service user
    for (const entry of readdirSync('/var/lib/weir')) expect(statSync(join('/var/lib/weir', entry)).uid, entry).toBe(Number(uid));
  }, 60_000);

  it('an upgrade (here: a reinstall) keeps an edited weir.yaml and the data directory', async () => {
    const edited = `${readFileSync('/etc/weir/weir.yaml', 'utf8')}\n# edited by the test\n`;
    writeFileSync('/etc/weir/weir.yaml', edited);
    writeFileSync('/var/lib/weir/buffer-marker', 'buffered');
    const { stdout, stderr } = await dpkg(['-i', deb]);
    expect(`${stdout}${stderr}`).not.toMatch(/error/i);
    expect(readFileSync('/etc/weir/weir.yaml', 'utf8')).toBe(edited);
    expect(readFileSync('/var/lib/weir/buffer-marker', 'utf8')).toBe('buffered');
  }, 120_000);

  it('dpkg --purge removes the data directory, the environment file, the user and the unit link', async () => {
    writeFileSync('/etc/default/weir', 'MQTT_PASSWORD=secret\n', { mode: 0o600 });
    await dpkg(['--purge', 'weir']);
    expect(await installed()).toBe('');
    expect(existsSync('/var/lib/weir')).toBe(false);
    expect(existsSync('/etc/default/weir')).toBe(false);
    expect(existsSync('/usr/lib/weir')).toBe(false);
    expect(existsSync('/etc/weir')).toBe(false);
    expect(await userExists()).toBe(false);
    expect(await run('getent', ['group', 'weir']).then(() => true, () => false)).toBe(false);
    expect(existsSync('/etc/systemd/system/multi-user.target.wants/weir.service')).toBe(false);
  }, 120_000);
});

// needs root and dpkg, as the amd64 package suite above; CI has both
describe.skipIf(!canRun)('the other packages the build makes', () => {
  const unpack = async (file: string) => {
    const dir = mkdtempSync(join(work, 'x-'));
    await sh('dpkg-deb', ['-x', file, dir]);
    return dir;
  };
  const nativeFiles = async (dir: string) => (await sh('find', [dir, '-type', 'f', '-name', '*.node'])).stdout.trim().split('\n').filter(Boolean);

  it('arm64 and armhf carry native addons for their own architecture only', async () => {
    const out = join(work, 'out-arm');
    await sh('bash', ['deploy/package/build.sh', '--arch', 'arm64', '--arch', 'armhf', '--compress', 'gzip', '--out', out], { timeout: 300_000 });
    const expected = { arm64: /^ELF 64-bit LSB shared object, ARM aarch64/, armhf: /^ELF 32-bit LSB shared object, ARM, EABI5/ };
    for (const [arch, elf] of Object.entries(expected)) {
      const file = join(out, `weir_${debVersion}_${arch}.deb`);
      expect((await sh('dpkg-deb', ['-f', file, 'Architecture'])).stdout.trim()).toBe(arch);
      expect((await sh('dpkg-deb', ['-f', file, 'Depends'])).stdout).toMatch(/nodejs \(>= 20\.11\).*libc6 \(>= 2\.\d+\)/);
      const natives = await nativeFiles(await unpack(file));
      expect(natives.length, arch).toBeGreaterThan(0);
      for (const native of natives) expect((await sh('file', ['-b', native])).stdout, native).toMatch(elf);
    }
  }, 300_000);

  it('--node-runtime ships Node.js inside the package and drops the nodejs dependency', async () => {
    const out = join(work, 'out-runtime');
    // this machine's own node stands in for an official linux-x64 build
    await sh('bash', ['deploy/package/build.sh', '--arch', 'amd64', '--node-runtime', `amd64=${resolve(process.execPath, '../..')}`, '--compress', 'none', '--out', out], { timeout: 300_000 });
    const file = join(out, `weir_${debVersion}_amd64.deb`);
    const depends = (await sh('dpkg-deb', ['-f', file, 'Depends'])).stdout;
    expect(depends).not.toContain('nodejs');
    expect(depends).toMatch(/libc6 \(>= 2\.\d+\)/);
    const dir = await unpack(file);
    expect(readFileSync(join(dir, 'usr/bin/weir'), 'utf8')).toContain('exec /usr/lib/weir/node/bin/node /usr/lib/weir/weir.js');
    expect((await sh(join(dir, 'usr/lib/weir/node/bin/node'), [join(dir, 'usr/lib/weir/weir.js'), '--version'])).stdout.trim()).toBe(pkg.version);
  }, 300_000);
});

// needs root and dpkg, as the amd64 package suite above; CI has both
describe.skipIf(!canRun)('the first-boot installer, run here on a fake boot partition', () => {
  let boot: string;

  it('installs the package, puts weir.yaml and weir.env in place first, and reports on the card', async () => {
    boot = join(work, 'boot');
    mkdirSync(join(boot, 'weir/profiles'), { recursive: true });
    await sh('cp', [deb, boot]);
    const config = `${readFileSync(join(root, 'deploy/package/weir.yaml'), 'utf8')}\nprofileFiles:\n  - profiles/*.yaml\n# from the card\n`;
    writeFileSync(join(boot, 'weir.yaml'), config);
    writeFileSync(join(boot, 'weir.env'), 'MQTT_PASSWORD=from-the-card\n');
    writeFileSync(join(boot, 'weir/profiles/shelly.yaml'), readFileSync(join(root, 'deploy/examples/profiles/shelly-ht.yaml')));

    await sh('bash', [join(root, 'deploy/pi/weir-firstboot.sh')], { env: { ...process.env, WEIR_BOOT_DIR: boot }, timeout: 300_000 });
    expect(await installed()).toBe('installed');
    // dpkg kept the card's file (--force-confold) rather than its own default
    expect(readFileSync('/etc/weir/weir.yaml', 'utf8')).toBe(config);
    expect(statSync('/etc/default/weir').mode & 0o777).toBe(0o600);
    expect(existsSync('/etc/weir/profiles/shelly.yaml')).toBe(true);
    expect(existsSync(join(boot, 'weir.env'))).toBe(false);
    expect(existsSync(join(boot, 'weir.yaml.applied'))).toBe(true);
    const log = readFileSync(join(boot, 'weir-firstboot.log'), 'utf8');
    expect(log).toMatch(/\/etc\/weir\/weir\.yaml: ok \(1 device profile/);
    expect(log).toContain('done: weir');
  }, 300_000);

  it('run again, it leaves the installed package alone and exits 0', async () => {
    const before = statSync('/usr/lib/weir/weir.js').mtimeMs;
    await sh('bash', [join(root, 'deploy/pi/weir-firstboot.sh')], { env: { ...process.env, WEIR_BOOT_DIR: boot } });
    expect(statSync('/usr/lib/weir/weir.js').mtimeMs).toBe(before);
    await purge();
    rmSync('/etc/weir', { recursive: true, force: true }); // the card's profile stays after a purge
  }, 120_000);
});

// ---- under a real systemd -------------------------------------------------------------------

// WEIR_TEST_NSPAWN=0 leaves this part out; without systemd-nspawn (Debian's systemd-container) it is skipped.
describe.skipIf(!canRun || process.env.WEIR_TEST_NSPAWN === '0')('under systemd (systemd-nspawn): the first-boot hook installs and starts weir.service', () => {
  let container: Container | undefined;
  let card: string;
  const inside = (args: string[]) => container!.inside(args);

  beforeAll(async () => {
    await tryInstall(['systemd-container:/usr/bin/systemd-nspawn']);
    if (!has('/usr/bin/systemd-nspawn')) return;
    if (await installed()) await purge();
    // A card as prepare-card.sh leaves it, on /boot/firmware; the container boots a
    // small target that wants only weir-firstboot.service (no host services), with
    // a private network, so 1883 is free in there.
    const dir = join(work, 'nspawn');
    const upper = prepareContainer(dir);
    card = join(dir, 'card');
    mkdirSync(card);
    await sh('cp', [deb, card]);
    writeFileSync(join(card, 'weir.yaml'), `${readFileSync(join(root, 'deploy/package/weir.yaml'), 'utf8')}\n# from the card\n`);
    // what install-hook.sh does on the board, into the container's upper layers
    await sh('sh', [join(root, 'deploy/pi/install-hook.sh')], { env: { ...process.env, WEIR_ROOT: join(dir, 'upper') } });
    writeFileSync(
      join(upper.etc, 'systemd/system/weir-test.target'),
      '[Unit]\nDescription=weir first-boot test\nRequires=basic.target\nAfter=basic.target\nWants=weir-firstboot.service\nAllowIsolate=yes\n',
    );
    // a board has no policy-rc.d; this machine may have one that forbids starting services
    if (existsSync('/usr/sbin/policy-rc.d')) {
      mkdirSync(join(upper.usr, 'sbin'), { recursive: true });
      await sh('mknod', [join(upper.usr, 'sbin/policy-rc.d'), 'c', '0', '0']); // an overlayfs whiteout
    }
    container = await bootContainer({ dir, binds: { [card]: '/boot/firmware' }, unit: 'weir-test.target' });
  }, 300_000);

  afterAll(async () => {
    await container?.dispose();
  }, 60_000);

  it("weir-firstboot ran at boot: weir is installed, active, on the card's config, and the hook disabled itself", async (ctx) => {
    // no container: beforeAll found no systemd-nspawn (tryInstall puts it in place where apt works, as in CI)
    if (!container) ctx.skip();
    const journal = (await inside(['journalctl', '-b', '-u', 'weir-firstboot', '-u', 'weir', '--no-pager', '-o', 'cat'])).stdout;
    const log = readFileSync(join(card, 'weir-firstboot.log'), 'utf8');
    expect((await inside(['systemctl', 'show', 'weir-firstboot.service', '-p', 'ExecMainStatus'])).stdout, journal).toContain('ExecMainStatus=0');
    const active = await inside(['systemctl', 'is-active', 'weir.service']).catch((e: { stdout: string }) => e);
    expect(active.stdout.trim(), `${journal}\n${log}`).toBe('active');
    expect((await inside(['systemctl', 'is-enabled', 'weir.service'])).stdout.trim()).toBe('enabled');
    expect((await inside(['systemctl', 'is-enabled', 'weir-firstboot.service']).catch((e: { stdout: string }) => e)).stdout.trim()).toBe('disabled');
    expect((await inside(['cat', '/etc/weir/weir.yaml'])).stdout).toContain('# from the card');
    expect(log).toContain('done: weir');
    // postinst started it (deb-systemd-invoke), not the hook's fallback
    expect(log).not.toContain('starting weir');
    expect(existsSync(join(card, 'weir.yaml.applied'))).toBe(true);
  });

  it('the hardened unit ingests on port 1883, reloads on SIGHUP and stops cleanly', async (ctx) => {
    // no container: beforeAll found no systemd-nspawn (tryInstall puts it in place where apt works, as in CI)
    if (!container) ctx.skip();
    await inside(['mosquitto_pub', '-h', '127.0.0.1', '-p', '1883', '-t', 'weir/pi-1/telemetry', '-m', '{"humidity":40}']);
    await eventually(async () => (await inside(['curl', '-s', 'http://127.0.0.1:8080/metrics'])).stdout.includes('weir_readings_total{source="mqtt:embedded"} 1'), 10_000, 'the reading to be counted');
    const mainPid = (await inside(['systemctl', 'show', 'weir', '-p', 'MainPID', '--value'])).stdout.trim();
    await inside(['systemctl', 'reload', 'weir']);
    expect((await inside(['systemctl', 'show', 'weir', '-p', 'MainPID', '--value'])).stdout.trim()).toBe(mainPid);
    await inside(['systemctl', 'stop', 'weir']);
    const shown = (await inside(['systemctl', 'show', 'weir', '-p', 'Result', '-p', 'ExecMainStatus'])).stdout;
    expect(shown).toContain('Result=success');
    expect(shown).toContain('ExecMainStatus=0');
    const journal = (await inside(['journalctl', '-u', 'weir', '--no-pager', '-o', 'cat'])).stdout;
    expect(journal).toContain('SIGHUP: reloading.');
    expect(journal).toContain('Stopped cleanly.');
    expect((await inside(['stat', '-c', '%U %a', '/var/lib/weir'])).stdout.trim()).toBe('weir 750');
    // on a board where nothing holds the ports, the doctor finds nothing that fails (warnings allowed)
    const doctor = await inside(['setpriv', '--reuid=weir', '--regid=weir', '--init-groups', '--', '/usr/bin/weir', 'doctor', '--config', '/etc/weir/weir.yaml']).catch((e: Error) => e);
    expect(doctor instanceof Error ? doctor.message : 'exit 0').toBe('exit 0');
  }, 60_000);
});
