/**
 * The InfluxDB sink: one gzip'd line-protocol POST to /api/v2/write per batch.
 *
 * Plain fetch rather than @influxdata/influxdb-client: the client's WriteApi
 * batches and retries in memory (its retry buffer drops data on overflow and
 * at exit, influxdb-client-js#425), and weir's durable buffer must own both.
 * What is left for a client to do, an authenticated POST and a status code, is
 * a dozen lines with Node's fetch, with no dependency and full control of the
 * failure classification and Retry-After.
 */
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import type { Clock, DeliveryOutcome, PipelineRecord, Sink } from '../../core/contracts.js';
import { parseDuration } from '../../core/units.js';
import { WeirError } from '../../core/errors.js';
import type { ReadingRecord } from '../../core/records.js';
import type { InfluxdbSinkConfig } from './config.js';
import { classifyWrite } from './http-outcome.js';
import { EncodeError, encodeBatch, type LineMapping } from './line-protocol.js';

const gzip = promisify(gzipCb);

export interface InfluxdbSinkOptions {
  readonly gatewayId: string;
  readonly clock: Clock;
}

export class InfluxdbSink implements Sink {
  readonly name: string;
  readonly #writeUrl: string;
  readonly #headers: Record<string, string>;
  readonly #mapping: LineMapping;
  readonly #gzip: boolean;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  #closed = false;

  constructor(config: InfluxdbSinkConfig, options: InfluxdbSinkOptions) {
    this.name = config.name;
    const url = new URL(config.url);
    // a base URL with a path prefix (InfluxDB behind a proxy) keeps it
    url.pathname = url.pathname.replace(/\/$/, '') + '/api/v2/write';
    url.search = new URLSearchParams({ org: config.org, bucket: config.bucket, precision: 'ms' }).toString();
    this.#writeUrl = url.toString();
    this.#headers = {
      'content-type': 'text/plain; charset=utf-8',
      accept: 'application/json',
      ...(config.gzip ? { 'content-encoding': 'gzip' } : {}),
      ...(config.token ? { authorization: `Token ${config.token}` } : {}),
    };
    this.#mapping = {
      gateway: options.gatewayId,
      measurement: readingTemplate(config.measurement, 'measurement'),
      field: readingTemplate(config.field, 'field'),
      alertMeasurement: config.alertMeasurement,
      tags: config.tags,
    };
    this.#gzip = config.gzip;
    this.#timeoutMs = parseDuration(config.timeout);
    this.#clock = options.clock;
  }

  async deliver(batch: readonly PipelineRecord[]): Promise<DeliveryOutcome> {
    if (this.#closed) return { kind: 'retry', reason: 'sink closed' };
    let body: Buffer;
    try {
      const text = encodeBatch(batch, this.#mapping);
      body = this.#gzip ? await gzip(text) : Buffer.from(text);
    } catch (e) {
      if (e instanceof EncodeError) return { kind: 'rejected', reason: e.message };
      throw e;
    }
    let res: Response;
    try {
      res = await fetch(this.#writeUrl, {
        method: 'POST',
        headers: this.#headers,
        body,
        redirect: 'manual', // a redirected POST would turn into a GET and "succeed"
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (e) {
      return { kind: 'retry', reason: `InfluxDB unreachable: ${describe(e)}` };
    }
    // Read the body even on success so the connection goes back to the pool.
    const text = await res.text().catch(() => '');
    return classifyWrite(res.status, res.headers.get('retry-after'), text, this.#clock.now());
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

/** `{metric}` and `{device}` in a measurement or field name; anything else is a config error at boot. */
function readingTemplate(template: string, what: string): (r: ReadingRecord) => string {
  const unknown = [...template.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]).filter((p) => p !== 'metric' && p !== 'device');
  if (unknown.length) throw new WeirError('CONFIG_INVALID', `influxdb ${what} template ${JSON.stringify(template)}: unknown placeholder {${unknown[0]}}; use {metric} or {device}`);
  if (!template.includes('{')) return () => template;
  return (r) => template.replaceAll('{metric}', r.metric).replaceAll('{device}', r.device);
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (e.name === 'TimeoutError') return 'request timed out';
  // fetch wraps the socket error (ECONNREFUSED, ...) as its cause
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? e.message;
}
