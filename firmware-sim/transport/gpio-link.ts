/**
 * A GPIO device drives one line of an in-memory chip, as a button or a PIR
 * would. Only `drive` is needed, so devices/gpio's MemoryGpioChip fits, and so
 * does anything else with that method.
 */
import type { Level } from '../../devices/gpio/chip.js';
import type { Outgoing } from '../fleet/device.js';
import type { Link, SendDone } from './link.js';

export interface GpioDriver {
  drive(pin: number, level: Level): void;
}

export class GpioLink implements Link {
  readonly kind = 'gpio';
  readonly name: string;
  readonly connected = true;
  readonly #chip: GpioDriver;
  readonly #pin: number;

  constructor(name: string, chip: GpioDriver, pin: number) {
    this.name = name;
    this.#chip = chip;
    this.#pin = pin;
  }

  async start(): Promise<void> {}

  send(out: Outgoing, done: SendDone): void {
    if (out.level !== undefined) this.#chip.drive(this.#pin, out.level);
    done();
  }

  down(): void {}
  up(): void {}
  async stop(): Promise<void> {}
}

/** Collects messages instead of sending them: offline generation, recording, determinism tests. */
export class CaptureLink implements Link {
  readonly kind = 'capture';
  readonly name: string;
  readonly connected = true;
  readonly #sink: (out: Outgoing) => void;

  constructor(name: string, sink: (out: Outgoing) => void) {
    this.name = name;
    this.#sink = sink;
  }

  async start(): Promise<void> {}

  send(out: Outgoing, done: SendDone): void {
    this.#sink(out);
    done();
  }

  down(): void {}
  up(): void {}
  async stop(): Promise<void> {}
}
