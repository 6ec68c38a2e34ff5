/**
 * A serial cable made of two ptys (Debian's socat): the gateway opens
 * `device`, the simulator writes to `peer`. Unplugging kills socat, so both
 * ends vanish as a USB adapter's node does; plugging back makes the same links.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export class PtyPair {
  readonly device: string;
  readonly peer: string;
  #socat: ChildProcess | undefined;

  constructor(dir: string, name: string) {
    mkdirSync(dir, { recursive: true });
    this.device = join(dir, name);
    this.peer = join(dir, `${name}.sim`);
  }

  get plugged(): boolean {
    return this.#socat !== undefined && this.#socat.exitCode === null;
  }

  async plug(timeoutMs = 5000): Promise<void> {
    if (this.plugged) return;
    let log = '';
    const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.device}`, `pty,raw,echo=0,link=${this.peer}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#socat = socat;
    socat.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const spawnError = new Promise<Error>((resolve) => socat.once('error', resolve));
    let failed: Error | undefined;
    void spawnError.then((e) => (failed = e));
    const until = Date.now() + timeoutMs;
    // socat says so once both links exist and it copies bytes
    while (!(existsSync(this.device) && existsSync(this.peer) && log.includes('starting data transfer loop'))) {
      if (failed) throw new Error(`cannot run socat (apt-get install socat): ${failed.message}`);
      if (Date.now() > until || socat.exitCode !== null) throw new Error(`socat did not link the ptys:\n${log}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async unplug(): Promise<void> {
    const socat = this.#socat;
    this.#socat = undefined;
    if (socat && socat.exitCode === null) {
      const exited = new Promise((r) => socat.once('exit', r));
      socat.kill('SIGKILL');
      await exited;
    }
    // SIGKILL leaves socat no time to remove its links; a pulled plug leaves no node either
    rmSync(this.device, { force: true });
    rmSync(this.peer, { force: true });
  }
}
