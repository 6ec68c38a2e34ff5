/**
 * GPIO pins as a source and an actuator. Inputs become a reading per settled
 * change (`true` = active, after polarity); outputs are switched by rules
 * through `setOutput` and report their state as readings too. Debounce, edge
 * selection and polarity are applied here, on the injected clock, so every
 * backend behaves alike. With no GPIO at all the source says so and idles.
 */
import type { Clock, Frame, Ingest, IngestError, Source, TimerHandle } from '../../gateway/core/contracts.js';
import type { GpioChip, InputLine, Level, OutputLine } from './chip.js';
import type { GpioPinSettings } from './settings.js';
import { outputValue, type ActuationResult, type Actuator } from './actuator.js';
import type { LifecycleLog } from '../serial/serial-source.js';

export interface GpioPinCounters {
  /** Raw level changes the backend reported, bounces included. */
  edges: number;
  readings: number;
  /** Changes that settled back within the debounce time, or that the edge selection skipped. */
  suppressed: number;
  writes: number;
  errors: number;
}

export interface GpioPinStatus {
  readonly name: string;
  readonly pin: number;
  readonly device: string;
  readonly direction: 'in' | 'out';
  readonly state: 'open' | 'failed' | 'closed';
  readonly error: string | null;
  readonly value: boolean | null;
  readonly lastChangeAgeMs: number | null;
  readonly counters: Readonly<GpioPinCounters>;
}

export interface GpioStatus {
  readonly available: boolean;
  readonly backend: string | null;
  readonly description: string;
  readonly pins: readonly GpioPinStatus[];
}

interface Pin {
  readonly s: GpioPinSettings;
  state: 'open' | 'failed' | 'closed';
  error: string | null;
  input?: InputLine;
  output?: OutputLine;
  /** Logical settled value. */
  value: boolean | undefined;
  raw: Level | undefined;
  debounce: TimerHandle | undefined;
  lastChangeAt: number | undefined;
  readonly counters: GpioPinCounters;
}

export interface GpioSourceOptions {
  readonly pins: readonly GpioPinSettings[];
  /** undefined when no backend could be opened; `unavailable` says why. */
  readonly chip: GpioChip | undefined;
  readonly unavailable?: string;
  readonly clock: Clock;
  readonly log?: LifecycleLog;
}

export class GpioSource implements Source, Actuator {
  readonly name = 'gpio';
  readonly #o: GpioSourceOptions;
  readonly #pins: Pin[];
  #ingest: Ingest = () => undefined;
  #ingestError: IngestError = () => undefined;

  constructor(options: GpioSourceOptions) {
    this.#o = options;
    this.#pins = options.pins.map((s) => ({
      s,
      state: 'closed',
      error: null,
      value: undefined,
      raw: undefined,
      debounce: undefined,
      lastChangeAt: undefined,
      counters: { edges: 0, readings: 0, suppressed: 0, writes: 0, errors: 0 },
    }));
  }

  async start(ingest: Ingest, ingestError: IngestError): Promise<void> {
    this.#ingest = ingest;
    this.#ingestError = ingestError;
    const { chip, log } = this.#o;
    if (!chip) {
      const reason = this.#o.unavailable ?? 'no GPIO backend';
      for (const p of this.#pins) (p.state = 'failed'), (p.error = reason);
      if (this.#pins.length > 0) {
        this.#problem('GPIO_UNAVAILABLE', `No GPIO available (${reason}); pins ${this.#pins.map((p) => p.s.name).join(', ')} are disabled; everything else runs.`);
        log?.warn({ reason, pins: this.#pins.map((p) => p.s.name) }, 'No GPIO available; GPIO pins are disabled, everything else runs.');
      }
      return;
    }
    for (const p of this.#pins) {
      try {
        if (p.s.direction === 'in') await this.#openInput(chip, p);
        else await this.#openOutput(chip, p);
        p.state = 'open';
      } catch (e) {
        p.state = 'failed';
        p.error = (e as Error).message;
        p.counters.errors++;
        this.#problem('GPIO_PIN_FAILED', `pin ${p.s.name} (BCM ${p.s.pin}) could not be opened: ${p.error}`, p.s.device);
      }
    }
    log?.info({ backend: chip.description, open: this.#pins.filter((p) => p.state === 'open').length, failed: this.#pins.filter((p) => p.state === 'failed').length }, 'GPIO pins open.');
  }

  /** Outputs go to their safe state before their lines are released. */
  async stop(): Promise<void> {
    for (const p of this.#pins) {
      if (p.debounce) this.#o.clock.clearTimeout(p.debounce);
      p.debounce = undefined;
      try {
        if (p.output && p.state === 'open') await p.output.write(this.#physical(p, p.s.safeState));
        await p.output?.close();
        await p.input?.close();
      } catch (e) {
        this.#o.log?.warn({ pin: p.s.name, err: (e as Error).message }, 'A GPIO pin did not close cleanly.');
      }
      if (p.state === 'open') p.state = 'closed';
    }
    await this.#o.chip?.close().catch(() => undefined);
  }

  outputs(): readonly string[] {
    return this.#pins.filter((p) => p.s.direction === 'out').map((p) => p.s.name);
  }

  async setOutput(name: string, value: boolean | number | string): Promise<ActuationResult> {
    const p = this.#pins.find((x) => x.s.name === name && x.s.direction === 'out');
    if (!p) return { ok: false, code: 'UNKNOWN_OUTPUT', message: `no GPIO output is named ${JSON.stringify(name)} (outputs: ${this.outputs().join(', ') || 'none'})` };
    const on = outputValue(value);
    if (on === undefined) return { ok: false, code: 'BAD_VALUE', message: `${JSON.stringify(value)} is neither on nor off` };
    if (p.state !== 'open' || !p.output) return { ok: false, code: 'GPIO_UNAVAILABLE', message: `output ${name} is not available: ${p.error ?? p.state}` };
    try {
      await p.output.write(this.#physical(p, on));
    } catch (e) {
      p.counters.errors++;
      return { ok: false, code: 'WRITE_FAILED', message: `output ${name}: ${(e as Error).message}` };
    }
    p.counters.writes++;
    const changed = p.value !== on;
    p.value = on;
    if (changed) this.#emit(p, 'set');
    return { ok: true, changed, value: on };
  }

  status(): GpioStatus {
    const now = this.#o.clock.now();
    return {
      available: this.#o.chip !== undefined,
      backend: this.#o.chip?.backend ?? null,
      description: this.#o.chip?.description ?? this.#o.unavailable ?? 'no GPIO backend',
      pins: this.#pins.map((p) => ({
        name: p.s.name,
        pin: p.s.pin,
        device: p.s.device,
        direction: p.s.direction,
        state: p.state,
        error: p.error,
        value: p.value ?? null,
        lastChangeAgeMs: p.lastChangeAt === undefined ? null : now - p.lastChangeAt,
        counters: { ...p.counters },
      })),
    };
  }

  async #openInput(chip: GpioChip, p: Pin): Promise<void> {
    p.input = await chip.openInput(p.s.pin, p.s.bias, (level) => this.#onLevel(p, level));
    p.raw = await p.input.read();
    p.value = this.#logical(p, p.raw);
    this.#emit(p, 'initial');
  }

  async #openOutput(chip: GpioChip, p: Pin): Promise<void> {
    p.output = await chip.openOutput(p.s.pin, this.#physical(p, p.s.safeState));
    p.value = p.s.safeState;
    this.#emit(p, 'initial');
  }

  #onLevel(p: Pin, level: Level): void {
    p.counters.edges++;
    p.raw = level;
    const { clock } = this.#o;
    if (p.s.debounceMs <= 0) return this.#settle(p);
    // the level must hold for the whole debounce time; each bounce starts it over
    if (p.debounce) clock.clearTimeout(p.debounce);
    p.debounce = clock.setTimeout(() => {
      p.debounce = undefined;
      this.#settle(p);
    }, p.s.debounceMs);
  }

  #settle(p: Pin): void {
    const value = this.#logical(p, p.raw ?? 0);
    if (value === p.value) {
      p.counters.suppressed++;
      return;
    }
    p.value = value;
    if ((p.s.edge === 'rising' && !value) || (p.s.edge === 'falling' && value)) {
      p.counters.suppressed++;
      return;
    }
    this.#emit(p, value ? 'rising' : 'falling');
  }

  #emit(p: Pin, edge: 'rising' | 'falling' | 'initial' | 'set'): void {
    const now = this.#o.clock.now();
    p.lastChangeAt = now;
    p.counters.readings++;
    const frame: Frame = {
      source: this.name,
      address: `gpio:${p.s.pin}`,
      payload: Buffer.from(p.value ? 'true' : 'false'),
      receivedAt: now,
      meta: { profile: p.s.profile, device: p.s.device, pin: p.s.pin, edge },
    };
    try {
      const pending = this.#ingest(frame);
      if (pending) pending.then(undefined, (e: unknown) => this.#problem('INGEST_FAILED', `pin ${p.s.name}: ${(e as Error)?.message}`, p.s.device));
    } catch (e) {
      this.#problem('INGEST_FAILED', `pin ${p.s.name}: ${(e as Error)?.message}`, p.s.device);
    }
  }

  #logical(p: Pin, level: Level): boolean {
    return (level === 1) !== p.s.activeLow;
  }

  #physical(p: Pin, on: boolean): Level {
    return on !== p.s.activeLow ? 1 : 0;
  }

  #problem(code: string, message: string, device?: string): void {
    try {
      this.#ingestError({ source: this.name, code, message, ...(device !== undefined ? { device } : {}) });
    } catch {
      // reporting must never break a pin
    }
  }
}
