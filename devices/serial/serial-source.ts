/**
 * A serial port as a source. It opens the port, cuts the byte stream into
 * frames, checks their checksum and hands them to the pipeline bound to one
 * profile and device. Every failure the field is known for is survived here:
 * a port missing at start or unplugged (reopen with backoff), a port that goes
 * silent without closing (watchdog, serialport#2117), garbage and partial lines
 * (counted), a polled device that answers late (counted, dropped).
 */
import type { Clock, Frame, Ingest, IngestError, Source, TimerHandle } from '../../gateway/core/contracts.js';
import { createFramer, type Framer } from '../decoders/framing/framer.js';
import { createFrameCheck, type FrameCheck } from '../decoders/checksums/frame-check.js';
import { looksLikeHeader } from '../decoders/csv-header.js';
import { Backoff } from './backoff.js';
import { Poller } from './poller.js';
import { openSerialPort, type OpenPort, type PortHandle } from './port-link.js';
import type { SerialSettings } from './settings.js';
import { newSerialCounters, type SerialCounters, type SerialPortStatus, type SerialState } from './status.js';

/** pino's Logger fits; lifecycle only (problems go through ingestError, which rate-limits). */
export interface LifecycleLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface SerialSourceOptions {
  readonly settings: SerialSettings;
  readonly clock: Clock;
  readonly log?: LifecycleLog;
  /** Opens the port; tests may substitute one. */
  readonly open?: OpenPort;
  readonly random?: () => number;
}

export class SerialSource implements Source {
  readonly name: string;
  readonly #s: SerialSettings;
  readonly #clock: Clock;
  readonly #log: LifecycleLog | undefined;
  readonly #open: OpenPort;
  readonly #backoff: Backoff;
  readonly #framer: Framer;
  readonly #check: FrameCheck;
  readonly #poller: Poller | undefined;
  readonly #counters: SerialCounters = newSerialCounters();
  #ingest: Ingest = () => undefined;
  #ingestError: IngestError = () => undefined;
  #state: SerialState = 'closed';
  #since: number;
  #lastError: string | null = null;
  #handle: PortHandle | undefined;
  /** Bumped on every open and close; callbacks of an older port see a stale value and do nothing. */
  #generation = 0;
  #retry: { timer: TimerHandle; at: number } | undefined;
  #watchdog: TimerHandle | undefined;
  #lastByteAt = 0;
  #lastFrameAt: number | undefined;
  #header: string | undefined;

  constructor(options: SerialSourceOptions) {
    this.#s = options.settings;
    this.name = `serial:${this.#s.path}`;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#open = options.open ?? openSerialPort;
    this.#since = this.#clock.now();
    this.#backoff = new Backoff(this.#s.reopen.initialMs, this.#s.reopen.maxMs, options.random);
    this.#framer = createFramer(this.#s.framing, { frame: (f) => this.#onFrame(f), discard: (code, bytes) => this.#onDiscard(code, bytes) });
    this.#check = createFrameCheck(this.#s.checksum);
    const poll = this.#s.poll;
    if (poll) {
      this.#poller = new Poller({
        everyMs: poll.everyMs,
        timeoutMs: poll.timeoutMs,
        clock: this.#clock,
        send: () => this.#sendRequest(poll.request),
        onTimeout: () => {
          this.#counters.pollTimeouts++;
          this.#problem('POLL_TIMEOUT', `no answer within ${poll.timeoutMs} ms`);
        },
      });
    }
  }

  /** Resolves after the first open attempt, whatever its outcome: a missing port is retried, not fatal. */
  async start(ingest: Ingest, ingestError: IngestError): Promise<void> {
    this.#ingest = ingest;
    this.#ingestError = ingestError;
    await this.#attempt();
  }

  async stop(): Promise<void> {
    this.#setState('stopped');
    this.#generation++;
    this.#clearTimers();
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }

  status(): SerialPortStatus {
    const now = this.#clock.now();
    return {
      name: this.name,
      path: this.#s.path,
      device: this.#s.device,
      profile: this.#s.profile,
      state: this.#state,
      since: new Date(this.#since).toISOString(),
      lastError: this.#lastError,
      lastFrameAgeMs: this.#lastFrameAt === undefined ? null : now - this.#lastFrameAt,
      nextAttemptInMs: this.#retry ? Math.max(0, this.#retry.at - now) : null,
      counters: { ...this.#counters },
    };
  }

  async #attempt(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#retry = undefined;
    this.#setState('opening');
    const generation = ++this.#generation;
    let handle: PortHandle;
    try {
      handle = await this.#open(this.#s, {
        data: (chunk) => {
          if (generation === this.#generation) this.#onData(chunk);
        },
        closed: (reason) => {
          if (generation === this.#generation) this.#onClosed(reason);
        },
      });
    } catch (e) {
      if (generation !== this.#generation) return;
      this.#counters.openFailures++;
      this.#lastError = (e as Error).message;
      // the first failure is worth a line; the pipeline rate-limits the rest
      this.#problem('OPEN_FAILED', `cannot open ${this.#s.path}: ${this.#lastError}`);
      this.#scheduleRetry();
      return;
    }
    if (generation !== this.#generation) {
      await handle.close();
      return;
    }
    this.#handle = handle;
    this.#counters.opens++;
    this.#lastByteAt = this.#clock.now();
    this.#header = undefined;
    this.#setState('open');
    this.#log?.info({ path: this.#s.path, device: this.#s.device, baud: this.#s.baud, opens: this.#counters.opens }, 'Serial port open.');
    this.#armWatchdog();
    this.#poller?.start();
  }

  #onData(chunk: Buffer): void {
    this.#counters.bytes += chunk.length;
    this.#lastByteAt = this.#clock.now();
    if (this.#backoff.attempts > 0) this.#backoff.reset();
    try {
      this.#framer.push(chunk);
    } catch (e) {
      // a framer bug must not take the port down with it
      this.#problem('FRAMER_FAILED', (e as Error).message, chunk);
    }
  }

  #onFrame(raw: Buffer): void {
    const checked = this.#check(raw);
    if (!checked.ok) {
      this.#counters.checksumErrors++;
      this.#problem(checked.code, checked.message, raw);
      return;
    }
    if (this.#poller && !this.#poller.answer()) {
      this.#counters.lateFrames++;
      this.#problem('LATE_FRAME', 'a frame arrived with no request outstanding (a late answer?); dropped', raw);
      return;
    }
    let payload = checked.payload;
    if (this.#s.headerLine) {
      const line = payload.toString('utf8');
      if (looksLikeHeader(line)) {
        this.#header = line;
        this.#counters.headers++;
        return;
      }
      if (this.#header === undefined) {
        this.#counters.discarded++;
        this.#problem('NO_HEADER_YET', 'a data line came before any header line; dropped', raw);
        return;
      }
      payload = Buffer.from(`${this.#header}\n${line}`, 'utf8');
    }
    this.#emit(payload);
  }

  #emit(payload: Buffer): void {
    const now = this.#clock.now();
    this.#lastFrameAt = now;
    this.#counters.frames++;
    const frame: Frame = { source: this.name, address: this.#s.path, payload, receivedAt: now, meta: { profile: this.#s.profile, device: this.#s.device } };
    try {
      const pending = this.#ingest(frame);
      if (pending) pending.then(undefined, (e: unknown) => this.#ingestFailed(e));
    } catch (e) {
      this.#ingestFailed(e);
    }
  }

  #ingestFailed(e: unknown): void {
    this.#counters.ingestFailures++;
    this.#problem('INGEST_FAILED', `the pipeline did not take a frame: ${(e as Error)?.message ?? String(e)}`);
  }

  #onDiscard(code: string, bytes: Buffer): void {
    this.#counters.discarded++;
    this.#problem(code, `dropped ${bytes.length} bytes that do not form a frame`, bytes);
  }

  #onClosed(reason: string): void {
    this.#generation++;
    this.#handle = undefined;
    this.#counters.disconnects++;
    this.#dropPartial();
    this.#lastError = reason;
    this.#poller?.stop();
    this.#problem('DISCONNECTED', `${this.#s.path} closed: ${reason}`);
    this.#log?.warn({ path: this.#s.path, device: this.#s.device, reason }, 'Serial port closed; reopening with backoff.');
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    this.#clearTimers();
    if (this.#state === 'stopped') return;
    const delay = this.#backoff.next();
    this.#setState('retrying');
    const timer = this.#clock.setTimeout(() => void this.#attempt(), delay);
    this.#retry = { timer, at: this.#clock.now() + delay };
  }

  /** Checks at half the silence interval, so a silent port is caught within 1.5x of it, without a timer reset per chunk. */
  #armWatchdog(): void {
    const silenceMs = this.#s.silenceMs;
    if (silenceMs <= 0) return;
    this.#watchdog = this.#clock.setTimeout(() => {
      this.#watchdog = undefined;
      if (this.#state !== 'open') return;
      if (this.#clock.now() - this.#lastByteAt < silenceMs) return this.#armWatchdog();
      this.#counters.watchdogReopens++;
      this.#problem('SILENT', `no byte for ${silenceMs} ms; reopening ${this.#s.path}`);
      void this.#reopen('silent');
    }, Math.max(1, Math.floor(silenceMs / 2)));
  }

  async #reopen(reason: string): Promise<void> {
    const handle = this.#handle;
    this.#generation++;
    this.#handle = undefined;
    this.#dropPartial();
    this.#poller?.stop();
    this.#lastError = reason;
    await handle?.close();
    // straight back: the port itself is there, only its data stopped
    if (this.#state !== 'stopped') await this.#attempt();
  }

  #sendRequest(request: Buffer): void {
    const handle = this.#handle;
    if (!handle) return;
    // bytes of an earlier, late answer must not prefix this one
    this.#dropPartial();
    this.#counters.polls++;
    handle.write(request, (e) => {
      if (e) this.#problem('WRITE_FAILED', `poll request not written: ${e.message}`);
    });
  }

  #dropPartial(): void {
    const dropped = this.#framer.reset();
    if (dropped > 0) this.#counters.partialFrames++;
  }

  #clearTimers(): void {
    if (this.#retry) this.#clock.clearTimeout(this.#retry.timer);
    if (this.#watchdog) this.#clock.clearTimeout(this.#watchdog);
    this.#retry = this.#watchdog = undefined;
    this.#poller?.stop();
  }

  #setState(state: SerialState): void {
    if (this.#state === 'stopped' || this.#state === state) return;
    this.#state = state;
    this.#since = this.#clock.now();
  }

  #problem(code: string, message: string, sample?: Buffer): void {
    try {
      this.#ingestError({ source: this.name, code, message, device: this.#s.device, ...(sample ? { sample } : {}) });
    } catch {
      // reporting must never take the port down
    }
  }
}
