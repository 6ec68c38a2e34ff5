/**
 * The sysfs backend, through onoff. Edges come from onoff's epoll watch; where a
 * line cannot deliver them (no interrupt support, fivdi/onoff#77, or a tmpfs
 * stand-in in tests) the line's value file is read every `pollIntervalMs`.
 * Outputs are left exported on close so the safe level written last holds
 * after weir exits; unexporting would float the pin and could flip a relay.
 */
import type { Gpio as OnoffGpio } from 'onoff';
import type { Clock, TimerHandle } from '../../gateway/core/contracts.js';
import type { Bias, ChipProblem, GpioChip, InputLine, Level, OutputLine } from './chip.js';
import { listSysfsChips, pickChip, sysfsNumber, SYSFS_GPIO_ROOT, type SysfsChip } from './sysfs-offset.js';

type GpioClass = typeof OnoffGpio;

export interface SysfsChipOptions {
  readonly chip?: string;
  readonly pollIntervalMs: number;
  readonly clock: Clock;
  readonly onProblem: ChipProblem;
  /** Where chips are listed; onoff itself always uses /sys/class/gpio. */
  readonly root?: string;
}

export class SysfsGpioChip implements GpioChip {
  readonly backend = 'sysfs';
  readonly description: string;
  readonly #chip: SysfsChip;
  readonly #Gpio: GpioClass;
  readonly #o: SysfsChipOptions;
  readonly #open = new Set<{ close(): Promise<void> }>();

  private constructor(chip: SysfsChip, Gpio: GpioClass, options: SysfsChipOptions) {
    this.#chip = chip;
    this.#Gpio = Gpio;
    this.#o = options;
    this.description = `sysfs ${chip.label} (${chip.name}, base ${chip.base})`;
  }

  /** The chip, or why sysfs GPIO cannot be used here. */
  static async open(options: SysfsChipOptions): Promise<SysfsGpioChip | string> {
    const root = options.root ?? SYSFS_GPIO_ROOT;
    const chips = listSysfsChips(root);
    if (chips.length === 0) return `${root} lists no GPIO chips`;
    const picked = pickChip(chips, options.chip);
    if ('problem' in picked) return picked.problem;
    let Gpio: GpioClass;
    try {
      ({ Gpio } = await import('onoff'));
    } catch (e) {
      return `onoff could not load (${(e as Error).message})`;
    }
    if (!Gpio.accessible) return `${SYSFS_GPIO_ROOT}/export is not writable by this user (add it to the gpio group)`;
    return new SysfsGpioChip(picked.chip, Gpio, options);
  }

  async openInput(pin: number, _bias: Bias, onChange: (level: Level) => void): Promise<InputLine> {
    const gpio = new this.#Gpio(this.#number(pin), 'in', 'both');
    let poll: TimerHandle | undefined;
    let closed = false;
    try {
      gpio.watch((err, value) => {
        if (err) this.#o.onProblem('GPIO_WATCH_FAILED', `pin ${pin}: ${err.message}`);
        else onChange(value);
      });
    } catch (e) {
      // onoff registered the listener before epoll refused the fd; clear it so unexport works later
      try {
        gpio.unwatchAll();
      } catch {
        // the same epoll refusal, once more
      }
      this.#o.onProblem('GPIO_NO_INTERRUPTS', `pin ${pin} cannot report edges (${(e as Error).message}); reading it every ${this.#o.pollIntervalMs} ms`);
      const { clock, pollIntervalMs } = this.#o;
      let last = gpio.readSync();
      const tick = () => {
        if (closed) return;
        try {
          const now = gpio.readSync();
          if (now !== last) onChange((last = now));
        } catch (err) {
          this.#o.onProblem('GPIO_READ_FAILED', `pin ${pin}: ${(err as Error).message}`);
        }
        poll = clock.setTimeout(tick, pollIntervalMs);
      };
      poll = clock.setTimeout(tick, pollIntervalMs);
    }
    const line = {
      read: async () => gpio.readSync(),
      close: async () => {
        closed = true;
        if (poll) this.#o.clock.clearTimeout(poll);
        this.#open.delete(line);
        try {
          gpio.unexport();
        } catch {
          // already gone
        }
      },
    };
    this.#open.add(line);
    return line;
  }

  async openOutput(pin: number, initial: Level): Promise<OutputLine> {
    // 'high'/'low' set direction and level in one write: no glitch through the wrong level
    const gpio = new this.#Gpio(this.#number(pin), initial ? 'high' : 'low');
    const line = {
      write: (level: Level) => gpio.write(level),
      close: async () => void this.#open.delete(line),
    };
    this.#open.add(line);
    return line;
  }

  async close(): Promise<void> {
    for (const line of [...this.#open]) await line.close();
  }

  #number(pin: number): number {
    const n = sysfsNumber(this.#chip, pin);
    if (typeof n === 'string') throw new RangeError(n);
    return n;
  }
}
