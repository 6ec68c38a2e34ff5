/**
 * A serial cable made of two ptys: Debian's socat links `device` (what weir
 * opens) to `peer` (where a test plays the device). Killing socat is pulling
 * the USB plug: both ends vanish, and a restart brings them back under the same
 * link paths, as udev brings back /dev/serial/by-id/... after a replug.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tty from 'node:tty';
import { exited, killChild } from './processes.js';

export interface PtyPair {
  readonly device: string;
  readonly peer: string;
  /** Writes from the device's side of the cable. */
  write(data: string | Buffer): Promise<void>;
  /** Bytes weir wrote to the device. */
  onData(listener: (chunk: Buffer) => void): void;
  unplug(): Promise<void>;
  plug(): Promise<void>;
  dispose(): Promise<void>;
}

export async function ptyPair(options: { plugged?: boolean } = {}): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'weir-pty-'));
  const device = join(dir, 'device');
  const peer = join(dir, 'peer');
  let socat: ChildProcess | undefined;
  let reader: tty.ReadStream | undefined;
  let writer: tty.WriteStream | undefined;
  const listeners: ((chunk: Buffer) => void)[] = [];

  const closePeer = () => {
    reader?.destroy();
    writer?.destroy();
    reader = writer = undefined;
  };
  const plug = async () => {
    let log = '';
    socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${peer}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    socat.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const until = Date.now() + 5000;
    while (!(existsSync(device) && existsSync(peer) && log.includes('starting data transfer loop'))) {
      if (Date.now() > until || socat.exitCode !== null) throw new Error(`socat did not link the ptys:\n${log}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    // two descriptors on the peer: libuv wants one tty handle per direction
    const rfd = openSync(peer, constants.O_RDWR | constants.O_NOCTTY);
    const wfd = openSync(peer, constants.O_RDWR | constants.O_NOCTTY);
    reader = new tty.ReadStream(rfd);
    reader.on('data', (chunk: Buffer) => listeners.forEach((l) => l(chunk)));
    reader.on('error', () => undefined);
    writer = new tty.WriteStream(wfd);
    writer.on('error', () => undefined);
  };
  const unplug = async () => {
    closePeer();
    await killChild(socat);
    // SIGKILL gives socat no chance to remove its links; a pulled plug leaves no device node either
    rmSync(device, { force: true });
    rmSync(peer, { force: true });
  };
  if (options.plugged ?? true) await plug();

  return {
    device,
    peer,
    write: (data) =>
      new Promise((resolve, reject) => {
        if (!writer) return reject(new Error('the pty pair is unplugged'));
        writer.write(data, (e) => (e ? reject(e) : resolve()));
      }),
    onData: (l) => listeners.push(l),
    unplug,
    plug,
    dispose: async () => {
      await unplug();
      if (socat && socat.exitCode === null) await exited(socat, 5000).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
