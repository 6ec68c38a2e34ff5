/**
 * A GPIO chip in memory: firmware-sim, tests and benchmarks drive its inputs
 * (`drive`) and read its outputs (`level`). It delivers edges, which a fake
 * sysfs tree on tmpfs cannot (no interrupts on regular files).
 */
import type { Bias, GpioChip, InputLine, Level, OutputLine } from './chip.js';

export class MemoryGpioChip implements GpioChip {
  readonly backend = 'memory';
  readonly description: string;
  readonly #levels = new Map<number, Level>();
  readonly #watchers = new Map<number, (level: Level) => void>();
  readonly #outputs = new Set<number>();
  readonly #lines: number;

  constructor(lines = 54, label = 'memory') {
    this.#lines = lines;
    this.description = `memory chip ${label} (${lines} lines)`;
  }

  /** Sets an input's level from outside, as a button or sensor would; every call is an edge, even a repeated level (bounce). */
  drive(pin: number, level: Level): void {
    this.#levels.set(pin, level);
    this.#watchers.get(pin)?.(level);
  }

  /** The level of a line (what an output drives). */
  level(pin: number): Level {
    return this.#levels.get(pin) ?? 0;
  }

  isOutput(pin: number): boolean {
    return this.#outputs.has(pin);
  }

  async openInput(pin: number, bias: Bias, onChange: (level: Level) => void): Promise<InputLine> {
    this.#claim(pin);
    if (!this.#levels.has(pin)) this.#levels.set(pin, bias === 'pull-up' ? 1 : 0);
    this.#watchers.set(pin, onChange);
    return {
      read: async () => this.level(pin),
      close: async () => void this.#watchers.delete(pin),
    };
  }

  async openOutput(pin: number, initial: Level): Promise<OutputLine> {
    this.#claim(pin);
    this.#outputs.add(pin);
    this.#levels.set(pin, initial);
    return {
      write: async (level) => void this.#levels.set(pin, level),
      close: async () => void this.#outputs.delete(pin),
    };
  }

  async close(): Promise<void> {
    this.#watchers.clear();
    this.#outputs.clear();
  }

  #claim(pin: number): void {
    if (pin < 0 || pin >= this.#lines) throw new RangeError(`line ${pin} is not on ${this.description}`);
    if (this.#watchers.has(pin) || this.#outputs.has(pin)) throw new Error(`line ${pin} is busy`);
  }
}
