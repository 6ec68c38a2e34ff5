/**
 * The deployment scripts that change nothing on this machine: prepare-card.sh
 * on boot partitions shaped like the ones Raspberry Pi Imager writes (a
 * firstrun.sh for Bookworm, cloud-init user-data for Trixie), the Dockerfile's
 * staging steps, and shellcheck on every deployment script. The package itself,
 * and the first-boot installer run for real, are in deploy-package.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { run } from './lib/processes.js';

const root = resolve(import.meta.dirname, '..');
const prepare = join(root, 'deploy/pi/prepare-card.sh');
let dir: string;

// The tail every Imager-written firstrun.sh ends with (rpi-imager's OptionsPopup).
const FIRSTRUN = `#!/bin/bash

set +e

CURRENT_HOSTNAME=\`cat /etc/hostname | tr -d " \\t\\n\\r"\`
echo greenhouse >/etc/hostname
rm -f /boot/firstrun.sh
sed -i 's| systemd.run.*||g' /boot/cmdline.txt
exit 0
`;

function card(name: string, files: Record<string, string>): string {
  const boot = join(dir, name);
  mkdirSync(boot);
  writeFileSync(join(boot, 'cmdline.txt'), 'console=serial0,115200 console=tty1 root=PARTUUID=0-02 rootfstype=ext4 rootwait\n');
  for (const [file, text] of Object.entries(files)) writeFileSync(join(boot, file), text);
  return boot;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-pi-'));
  writeFileSync(join(dir, 'weir_9.9.9-1_arm64.deb'), 'not really a package');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('prepare-card.sh', () => {
  it('hooks the installer into firstrun.sh before it deletes itself, once, and copies the files', async () => {
    const boot = card('bookworm', { 'firstrun.sh': FIRSTRUN });
    const args = [boot, join(dir, 'weir_9.9.9-1_arm64.deb'), '--config', join(root, 'deploy/package/weir.yaml')];
    await run('bash', [prepare, ...args]);
    await run('bash', [prepare, ...args]);
    const script = readFileSync(join(boot, 'firstrun.sh'), 'utf8').split('\n');
    const hook = script.findIndex((l) => l.includes('weir/firstboot/install-hook.sh'));
    expect(script.filter((l) => l.includes('weir-firstboot'))).toHaveLength(1);
    expect(hook).toBeGreaterThan(0);
    expect(hook).toBeLessThan(script.indexOf('rm -f /boot/firstrun.sh'));
    await run('bash', ['-n', join(boot, 'firstrun.sh')]);
    for (const f of ['weir_9.9.9-1_arm64.deb', 'weir.yaml', 'weir/firstboot/weir-firstboot.sh', 'weir/firstboot/weir-firstboot.service', 'weir/firstboot/install-hook.sh']) {
      expect(existsSync(join(boot, f)), f).toBe(true);
    }
  });

  it('adds a runcmd item to cloud-init user-data, first in an existing list', async () => {
    const fresh = card('trixie', { 'user-data': '#cloud-config\nhostname: greenhouse\n' });
    const listed = card('trixie-runcmd', { 'user-data': '#cloud-config\nhostname: greenhouse\nruncmd:\n- [rfkill, unblock, wifi]\n' });
    for (const boot of [fresh, listed]) {
      await run('bash', [prepare, boot, join(dir, 'weir_9.9.9-1_arm64.deb')]);
      await run('bash', [prepare, boot, join(dir, 'weir_9.9.9-1_arm64.deb')]);
    }
    const freshCmds = (parse(readFileSync(join(fresh, 'user-data'), 'utf8')) as { runcmd: string[][] }).runcmd;
    const listedCmds = (parse(readFileSync(join(listed, 'user-data'), 'utf8')) as { runcmd: string[][] }).runcmd;
    expect(freshCmds).toHaveLength(1);
    expect(listedCmds).toHaveLength(2);
    expect(listedCmds[1]).toEqual(['rfkill', 'unblock', 'wifi']);
    for (const cmds of [freshCmds, listedCmds]) {
      expect(cmds[0]?.slice(0, 2)).toEqual(['sh', '-c']);
      expect(cmds[0]?.[2]).toContain('install-hook.sh" --now');
      await run('sh', ['-n', '-c', cmds[0]![2]!]);
    }
  });

  it('refuses a card that Imager did not customise, and copies nothing to it', async () => {
    const boot = card('plain', {});
    await expect(run('bash', [prepare, boot, join(dir, 'weir_9.9.9-1_arm64.deb')])).rejects.toMatchObject({ stderr: expect.stringContaining('neither firstrun.sh nor user-data') });
    expect(existsSync(join(boot, 'weir_9.9.9-1_arm64.deb'))).toBe(false);
  });

  it('install-hook.sh installs and enables weir-firstboot.service in a root file system', async () => {
    const target = join(dir, 'rootfs');
    mkdirSync(target);
    await run('sh', [join(root, 'deploy/pi/install-hook.sh')], { env: { ...process.env, WEIR_ROOT: target } });
    expect(existsSync(join(target, 'usr/local/sbin/weir-firstboot'))).toBe(true);
    expect(readFileSync(join(target, 'etc/systemd/system/weir-firstboot.service'), 'utf8')).toContain('ExecStart=/usr/local/sbin/weir-firstboot');
    // a link inside the target root, as systemctl --root writes it
    expect(readlinkSync(join(target, 'etc/systemd/system/multi-user.target.wants/weir-firstboot.service'))).toBe('/etc/systemd/system/weir-firstboot.service');
  });
});

describe('the Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'deploy/docker/Dockerfile'), 'utf8');

  it('keeps the package paths, user and signals', () => {
    expect(dockerfile).toContain('deploy/package/bundle.mjs');
    expect(dockerfile).toContain('deploy/package/stage.sh');
    expect(dockerfile).toMatch(/useradd --system .*--home-dir \/var\/lib\/weir .* weir/);
    expect(dockerfile).toMatch(/^STOPSIGNAL SIGTERM$/m);
    expect(dockerfile).toMatch(/^VOLUME \/var\/lib\/weir$/m);
    expect(dockerfile).toMatch(/^EXPOSE 1883 8080$/m);
    expect(dockerfile).toMatch(/^CMD \["start", "--config", "\/etc\/weir\/weir.yaml"\]$/m);
  });

  it("its edit of the package's weir.yaml gives a config weir accepts, with HTTP on 0.0.0.0", async () => {
    const sed = /sed -i '([^']+)' \/etc\/weir\/weir\.yaml/.exec(dockerfile)?.[1];
    expect(sed).toBeDefined();
    const config = join(dir, 'container.yaml');
    writeFileSync(config, readFileSync(join(root, 'deploy/package/weir.yaml')));
    await run('sed', ['-i', sed!, config]);
    const parsed = parse(readFileSync(config, 'utf8')) as { http: { host: string }; broker: { auth: { anonymous: string } } };
    expect(parsed.http.host).toBe('0.0.0.0');
    expect(parsed.broker.auth.anonymous).toBe('loopback');
    const { stdout } = await run(process.execPath, [join(root, 'bin/weir.js'), 'check', '--config', config]);
    expect(stdout).toContain('ok');
  });
});

describe('shellcheck', () => {
  const scripts = [
    ['sh', 'deploy/debian/postinst'],
    ['sh', 'deploy/debian/prerm'],
    ['sh', 'deploy/debian/postrm'],
    ['sh', 'deploy/pi/install-hook.sh'],
    ['bash', 'deploy/pi/weir-firstboot.sh'],
    ['bash', 'deploy/pi/prepare-card.sh'],
    ['bash', 'deploy/package/build.sh'],
    ['bash', 'deploy/package/stage.sh'],
  ] as const;
  beforeAll(async () => {
    // as root, install it the way the suite installs its other Debian tools
    if (!existsSync('/usr/bin/shellcheck') && process.getuid?.() === 0) {
      await run('bash', ['-c', 'source test/lib/ensure-debian-packages.sh && ensure_debian_packages shellcheck:/usr/bin/shellcheck'], { cwd: root, timeout: 300_000 }).catch(() => undefined);
    }
  }, 300_000);

  it.for(scripts)('%s: %s is clean', async ([shell, script], ctx) => {
    // shellcheck is installed by this suite where apt works (CI); skipped only where it cannot be
    if (!existsSync('/usr/bin/shellcheck')) ctx.skip();
    await run('shellcheck', ['-s', shell, join(root, script)]);
  });
});
