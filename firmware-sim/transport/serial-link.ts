/**
 * A serial device: writes framed bytes to a port (the simulator's own end of a
 * pty pair, or a path it was given) and hears what the gateway writes back, for
 * devices that answer polls. A link drop on a pty pair pulls the plug.
 */
import { SerialPort } from 'serialport';
import type { Outgoing } from '../fleet/device.js';
import type { PtyPair } from './pty.js';
import type { Link, LinkEvents, SendDone } from './link.js';

export interface SerialLinkOptions {
  readonly name: string;
  /** What the simulator opens. */
  readonly path: string;
  /** The pair it made, if it made one (then `path` is its peer end). */
  readonly pty?: PtyPair;
  readonly baud: number;
  readonly events: LinkEvents;
  /** Frames printed after every open (a CSV header line). */
  readonly preamble: () => Buffer[];
  /** Bytes from the gateway (poll requests). */
  readonly onData?: (chunk: Buffer) => void;
}

export class SerialLink implements Link {
  readonly kind = 'serial';
  readonly name: string;
  readonly #o: SerialLinkOptions;
  #port: SerialPort | undefined;
  #held = false;
  #stopping = false;
  #opens = 0;

  constructor(options: SerialLinkOptions) {
    this.#o = options;
    this.name = options.name;
  }

  get connected(): boolean {
    return this.#port?.isOpen === true;
  }

  async start(): Promise<void> {
    await this.#o.pty?.plug();
    await this.#open();
  }

  send(out: Outgoing, done: SendDone): void {
    const port = this.#port;
    if (this.#held || !port?.isOpen) return done({ code: 'LINK_DOWN', message: 'the serial link is down' });
    port.write(out.bytes, (e) => done(e ? { code: 'WRITE_FAILED', message: e.message } : undefined));
  }

  down(): void {
    if (this.#held) return;
    this.#held = true;
    const port = this.#port;
    this.#port = undefined;
    if (port?.isOpen) port.close(() => undefined);
    void this.#o.pty?.unplug();
    this.#o.events.disconnected(this, 'unplugged');
  }

  up(): void {
    if (!this.#held) return;
    this.#held = false;
    void (async () => {
      try {
        await this.#o.pty?.plug();
        await this.#open();
      } catch (e) {
        this.#o.events.error(this, 'SERIAL_OPEN_FAILED', (e as Error).message);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    const port = this.#port;
    this.#port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.drain(() => port.close(() => resolve())));
    await this.#o.pty?.unplug();
  }

  async #open(): Promise<void> {
    const port = new SerialPort({ path: this.#o.path, baudRate: this.#o.baud, autoOpen: false });
    port.on('error', (e: Error) => this.#o.events.error(this, 'SERIAL_ERROR', e.message));
    port.on('data', (chunk: Buffer) => this.#o.onData?.(chunk));
    port.on('close', () => {
      if (!this.#stopping && !this.#held && this.#port === port) this.#o.events.disconnected(this, 'port closed');
    });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    this.#port = port;
    for (const frame of this.#o.preamble()) port.write(frame);
    this.#o.events.connected(this, this.#opens++ > 0);
  }
}
