/**
 * A GPIO backend over libgpiod's command-line tools (Debian `gpiod`), for boards
 * without sysfs GPIO. Inputs: one long-running `gpiomon` per line, its output
 * parsed. Outputs: one `gpioset` that holds the line; a new level means ending
 * it and starting another (the tools cannot change a held line), so a change
 * takes a few milliseconds and the line is briefly released in between. Tools 1.6 (Bookworm) and 2.x (Trixie) differ in
 * their options; the version is asked once.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import type { Bias, ChipProblem, GpioChip, InputLine, Level, OutputLine } from './chip.js';
import { pickChip } from './sysfs-offset.js';

const run = promisify(execFile);

export interface LibgpiodCommands {
  readonly gpiodetect: string;
  readonly gpioget: string;
  readonly gpiomon: string;
  readonly gpioset: string;
}

export const DEFAULT_COMMANDS: LibgpiodCommands = { gpiodetect: 'gpiodetect', gpioget: 'gpioget', gpiomon: 'gpiomon', gpioset: 'gpioset' };

export interface LibgpiodChipOptions {
  readonly chip?: string;
  readonly onProblem: ChipProblem;
  readonly commands?: LibgpiodCommands;
}

interface ChipLine {
  readonly name: string;
  readonly label: string;
  readonly lines: number;
}

/** `gpiochip0 [pinctrl-bcm2711] (58 lines)` */
export function parseGpiodetect(output: string): ChipLine[] {
  return [...output.matchAll(/^(\S+) \[([^\]]*)\] \((\d+) lines\)/gm)].map((m) => ({ name: m[1]!, label: m[2]!, lines: Number(m[3]) }));
}

export class LibgpiodChip implements GpioChip {
  readonly backend = 'libgpiod';
  readonly description: string;
  readonly #chip: ChipLine;
  readonly #v2: boolean;
  readonly #cmd: LibgpiodCommands;
  readonly #onProblem: ChipProblem;
  readonly #children = new Set<ChildProcess>();

  private constructor(chip: ChipLine, v2: boolean, options: LibgpiodChipOptions) {
    this.#chip = chip;
    this.#v2 = v2;
    this.#cmd = options.commands ?? DEFAULT_COMMANDS;
    this.#onProblem = options.onProblem;
    this.description = `libgpiod ${v2 ? '2' : '1'} tools, ${chip.label} (${chip.name})`;
  }

  /** The chip, or why the tools cannot be used. */
  static async open(options: LibgpiodChipOptions): Promise<LibgpiodChip | string> {
    const cmd = options.commands ?? DEFAULT_COMMANDS;
    let detected: string;
    let version: string;
    try {
      detected = (await run(cmd.gpiodetect, [], { timeout: 5000 })).stdout;
      version = (await run(cmd.gpioset, ['--version'], { timeout: 5000 })).stdout;
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: string };
      return err.code === 'ENOENT' ? 'the libgpiod tools are not installed (apt install gpiod)' : `gpiodetect failed: ${(err.stderr || err.message).trim()}`;
    }
    const chips = parseGpiodetect(detected);
    if (chips.length === 0) return 'gpiodetect found no GPIO chips (is /dev/gpiochip* readable? add the user to the gpio group)';
    const picked = pickChip(chips, options.chip);
    if ('problem' in picked) return picked.problem;
    return new LibgpiodChip(picked.chip, /v2\./.test(version), options);
  }

  async openInput(pin: number, bias: Bias, onChange: (level: Level) => void): Promise<InputLine> {
    this.#check(pin);
    // read before monitoring: gpiomon holds the line, and gpioget would find it busy
    let level = await this.#get(pin, bias);
    const biasArgs = bias === 'as-is' ? [] : ['--bias', bias];
    const args = this.#v2
      ? ['--format', '%o %e', ...biasArgs, '--chip', this.#chip.name, String(pin)]
      : ['--line-buffered', '--format', '%o %e', ...biasArgs, this.#chip.name, String(pin)];
    let child: ChildProcess | undefined;
    let closed = false;
    const start = () => {
      const c = spawn(this.#cmd.gpiomon, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      this.#children.add(c);
      let stderr = '';
      c.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)));
      c.on('error', (e) => this.#onProblem('GPIOMON_FAILED', `pin ${pin}: ${e.message}`));
      createInterface({ input: c.stdout! }).on('line', (line) => {
        // v1 prints 1 rising / 0 falling, v2 prints 1 rising / 2 falling
        const event = line.trim().split(/\s+/)[1];
        const next: Level | undefined = event === '1' ? 1 : event === '0' || event === '2' ? 0 : undefined;
        if (next === undefined) return;
        level = next;
        onChange(next);
      });
      c.on('exit', (code, signal) => {
        this.#children.delete(c);
        if (closed) return;
        this.#onProblem('GPIOMON_EXITED', `gpiomon for pin ${pin} exited (${code ?? signal}): ${stderr.trim()}; restarting in 1s`);
        const t = setTimeout(() => closed || start(), 1000);
        t.unref();
      });
    };
    start();
    return {
      read: async () => level,
      close: async () => {
        closed = true;
        if (child) await stopChild(child);
      },
    };
  }

  async openOutput(pin: number, initial: Level): Promise<OutputLine> {
    this.#check(pin);
    let holder = await this.#hold(pin, initial);
    // writes queue so two quick changes cannot race two gpiosets for the line
    let queue: Promise<void> = Promise.resolve();
    return {
      write: (level) => {
        queue = queue.then(async () => {
          await stopChild(holder);
          holder = await this.#hold(pin, level);
        });
        return queue;
      },
      close: async () => {
        await queue.catch(() => undefined);
        // a holder left running would outlive weir and keep the line busy for the next start;
        // once released, the Pi's pin controller keeps the last level driven
        await stopChild(holder);
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#children].map(stopChild));
  }

  async #get(pin: number, bias: Bias): Promise<Level> {
    const biasArgs = bias === 'as-is' ? [] : ['--bias', bias];
    const args = this.#v2 ? [...biasArgs, '--numeric', '--chip', this.#chip.name, String(pin)] : [...biasArgs, this.#chip.name, String(pin)];
    const { stdout } = await run(this.#cmd.gpioget, args, { timeout: 5000 });
    return stdout.trim() === '1' ? 1 : 0;
  }

  /** Starts a gpioset that holds the line at `level` until it is signalled. */
  async #hold(pin: number, level: Level): Promise<ChildProcess> {
    const assignment = `${pin}=${level}`;
    const args = this.#v2 ? ['--chip', this.#chip.name, assignment] : ['--mode=signal', this.#chip.name, assignment];
    const child = spawn(this.#cmd.gpioset, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#children.add(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', () => this.#children.delete(child));
    // gpioset prints nothing when it holds the line; an early exit means it could not
    const early = await new Promise<number | string | undefined>((resolve) => {
      const t = setTimeout(() => resolve(undefined), 100);
      child.once('error', (e) => (clearTimeout(t), resolve(e.message)));
      child.once('exit', (code, signal) => (clearTimeout(t), resolve(code ?? signal ?? -1)));
    });
    if (early !== undefined) throw new Error(`gpioset ${args.join(' ')} ended (${early}): ${stderr.trim()}`);
    return child;
  }

  #check(pin: number): void {
    if (pin >= this.#chip.lines) throw new RangeError(`pin ${pin} is beyond the ${this.#chip.lines} lines of ${this.#chip.label}`);
  }
}

/** SIGTERM, and the exit awaited (gpioset releases the line on it). */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => (child.kill('SIGKILL'), resolve()), 2000);
    child.once('exit', () => (clearTimeout(t), resolve()));
    child.kill('SIGTERM');
  });
}
