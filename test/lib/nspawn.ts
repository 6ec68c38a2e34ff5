/**
 * A throwaway systemd machine for deployment tests: systemd-nspawn boots this
 * machine's own /usr, with /etc, /usr and /var as overlays on upper layers the
 * caller prepares (so nothing on the host changes), a private network, and
 * chosen folders bound in. Needs root and systemd-nspawn (Debian's
 * systemd-container). Everything it starts ends in dispose(), and if the test
 * process dies instead, nspawn gets SIGTERM (setpriv --pdeathsig).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from './mqtt.js';
import { exited, killChild, run } from './processes.js';

export interface Container {
  /** Runs a command in every namespace of the container; rejects with its output on failure. */
  inside(args: string[], timeoutMs?: number): Promise<{ stdout: string; stderr: string }>;
  /** Powers the container off and removes what nspawn left on the host. */
  dispose(): Promise<void>;
}

export interface ContainerOptions {
  /** Holds rootfs/ and upper/{etc,usr,var}/; upper/ may be pre-filled (units, files). */
  readonly dir: string;
  /** host path → container path */
  readonly binds: Readonly<Record<string, string>>;
  /** The unit to boot (systemd.unit=), e.g. a small target that wants only what the test needs. */
  readonly unit: string;
}

const children = (pid: number): number[] => {
  const file = `/proc/${pid}/task/${pid}/children`;
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split(' ').filter(Boolean).map(Number) : [];
};
const comm = (pid: number) => (existsSync(`/proc/${pid}/comm`) ? readFileSync(`/proc/${pid}/comm`, 'utf8').trim() : '');

/** The container's systemd: a descendant of nspawn (which forks helpers first); 0 while there is none. */
function containerInit(nspawn: ChildProcess): number {
  const queue = nspawn.pid ? children(nspawn.pid) : [];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    if (comm(pid) === 'systemd') return pid;
    queue.push(...children(pid));
  }
  return 0;
}

/** Creates the layout under dir; returns the upper layer folders to pre-fill. */
export function prepareContainer(dir: string): { etc: string; usr: string; var: string } {
  const upper = { etc: join(dir, 'upper/etc'), usr: join(dir, 'upper/usr'), var: join(dir, 'upper/var') };
  for (const d of [join(dir, 'rootfs/usr/lib'), upper.etc, upper.usr, upper.var]) mkdirSync(d, { recursive: true });
  // merged-/usr links, and the os-release nspawn looks for before the overlays are mounted
  for (const l of ['bin', 'lib', 'lib64', 'sbin']) if (existsSync(`/${l}`) && lstatSync(`/${l}`).isSymbolicLink()) symlinkSync(readlinkSync(`/${l}`), join(dir, 'rootfs', l));
  writeFileSync(join(dir, 'rootfs/usr/lib/os-release'), readFileSync('/usr/lib/os-release'));
  writeFileSync(join(upper.etc, 'machine-id'), '0123456789abcdef0123456789abcdef\n');
  return upper;
}

/** Boots the container and waits until its systemd has finished starting `unit`. */
export async function bootContainer(options: ContainerOptions): Promise<Container> {
  const machine = `weir-test-${process.pid}`;
  const up = (d: string) => join(options.dir, 'upper', d);
  const nspawn = spawn(
    'setpriv',
    [
      '--pdeathsig', 'SIGTERM', '--', 'systemd-nspawn',
      '--quiet', '--register=no', '--keep-unit', '--link-journal=no', '--private-network', `--machine=${machine}`,
      '-D', join(options.dir, 'rootfs'),
      `--overlay=/usr:${up('usr')}:/usr`,
      `--overlay=/etc:${up('etc')}:/etc`,
      `--overlay=/var:${up('var')}:/var`,
      ...Object.entries(options.binds).map(([host, inside]) => `--bind=${host}:${inside}`),
      '-b', '--', `systemd.unit=${options.unit}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  nspawn.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  nspawn.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  let init = 0;

  const inside = async (args: string[], timeoutMs = 60_000) => {
    try {
      return await run('nsenter', ['-t', String(init), '-a', ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    } catch (e) {
      const err = e as Error & { stdout?: string; stderr?: string };
      throw Object.assign(new Error(`in the container: ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`), { stdout: err.stdout ?? '', stderr: err.stderr ?? '' });
    }
  };
  const dispose = async () => {
    init ||= containerInit(nspawn);
    if (init) await inside(['systemctl', 'poweroff']).catch(() => undefined);
    await exited(nspawn, 30_000).catch(async () => {
      nspawn.kill('SIGTERM'); // nspawn asks the container's systemd to power off
      await exited(nspawn, 15_000).catch(() => killChild(nspawn));
    });
    // an init whose nspawn died keeps running; SIGKILL to a PID namespace's init ends all of it
    if (init && comm(init) === 'systemd') process.kill(init, 'SIGKILL');
    // nspawn leaves this empty folder behind when /run is not a tmpfs
    rmSync(`/run/systemd/nspawn/propagate/${machine}`, { recursive: true, force: true });
  };

  try {
    await eventually(() => (init = containerInit(nspawn)) > 0, 20_000, `the container to start:\n${log}`);
    await eventually(
      async () => ['running', 'degraded'].includes((await inside(['systemctl', 'is-system-running']).catch((e: { stdout: string }) => e)).stdout.trim()),
      180_000,
      `the container to finish booting:\n${log}`,
    );
  } catch (e) {
    await dispose();
    throw e;
  }
  return { inside, dispose };
}
