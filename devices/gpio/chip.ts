/**
 * What every GPIO backend offers: raw physical levels of lines by BCM number.
 * Polarity, debounce and edge selection live above it in GpioSource, so the
 * sysfs, libgpiod and in-memory backends behave the same to a rule.
 */
export type Level = 0 | 1;
export type Bias = 'as-is' | 'pull-up' | 'pull-down' | 'disable';
export type GpioBackend = 'sysfs' | 'libgpiod' | 'memory';

export interface InputLine {
  read(): Promise<Level>;
  close(): Promise<void>;
}

export interface OutputLine {
  write(level: Level): Promise<void>;
  /** Releases the line; the level last written stays where the backend can hold it. */
  close(): Promise<void>;
}

export interface GpioChip {
  readonly backend: GpioBackend;
  /** For logs and /api/status: `sysfs pinctrl-rp1 (gpiochip571, base 571)`. */
  readonly description: string;
  /** `onChange` may see the same level twice and every bounce; the caller debounces. */
  openInput(pin: number, bias: Bias, onChange: (level: Level) => void): Promise<InputLine>;
  openOutput(pin: number, initial: Level): Promise<OutputLine>;
  close(): Promise<void>;
}

/** Backends report trouble they survive (a monitor process died) through this, never by throwing. */
export type ChipProblem = (code: string, message: string) => void;

/** Raspberry Pi pin controllers whose line offsets are BCM numbers, most recent first. */
export const PI_PIN_CONTROLLERS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'] as const;
