/**
 * How one sink's delivery loop batches, backs off and paces. Every sink config
 * carries this section as `delivery:`; durations and sizes are readable strings.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN, SIZE_PATTERN, parseDuration, parseSize } from '../core/units.js';

const Duration = (def: string, description: string) => Type.String({ pattern: DURATION_PATTERN, default: def, description });
const Size = (def: string, description: string) => Type.String({ pattern: SIZE_PATTERN, default: def, description });

export const DeliveryConfig = Type.Object(
  {
    batchSize: Type.Integer({ minimum: 1, maximum: 100_000, default: 500, description: 'Most records in one delivery.' }),
    maxBatchBytes: Size('1MiB', 'Most bytes (records as JSON) in one delivery; a single larger record still goes alone.'),
    linger: Duration('10ms', 'After idling, wait this long for more records before sending a short batch.'),
    backoffMin: Duration('100ms', 'First retry delay bound; each retry doubles it (full jitter).'),
    backoffMax: Duration('30s', 'Cap on the retry delay bound. A longer Retry-After from the upstream still wins.'),
    drainRate: Type.Integer({
      minimum: 0,
      // Off by default: the cap paces live records too, and a capped drain after an outage
      // measured 9.9x a 1k/s ingest against 23-31x uncapped (BENCHMARKS.md).
      default: 0,
      description: 'Most records per second sent to this sink, to spare a metered or slow uplink while a backlog drains (it paces live records too). 0 = no cap.',
    }),
    alertLane: Type.Boolean({
      default: true,
      description: 'Send alerts through their own lane, ahead of any telemetry backlog. Off: alerts go in log order with readings.',
    }),
    circuitOpenAfter: Type.Integer({ minimum: 1, default: 3, description: 'Consecutive failed attempts that open the circuit.' }),
    deadLetterMaxSize: Size('64MiB', 'Cap on dataDir/dead-letter/<sink>.ndjson; rejected records past it are counted, not written.'),
  },
  { additionalProperties: false, default: {}, description: 'Batching, retries and pacing of this sink.' },
);
export type DeliveryConfig = Static<typeof DeliveryConfig>;

/** DeliveryConfig with numbers: milliseconds, bytes, records per second. */
export interface DeliverySettings {
  readonly batchSize: number;
  readonly maxBatchBytes: number;
  readonly lingerMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  readonly drainRate: number;
  readonly alertLane: boolean;
  readonly circuitOpenAfter: number;
  readonly deadLetterMaxBytes: number;
}

export function deliverySettings(config: Partial<DeliveryConfig> = {}): DeliverySettings {
  return {
    batchSize: config.batchSize ?? 500,
    maxBatchBytes: parseSize(config.maxBatchBytes ?? '1MiB'),
    lingerMs: parseDuration(config.linger ?? '10ms'),
    backoffMinMs: Math.max(1, parseDuration(config.backoffMin ?? '100ms')),
    backoffMaxMs: parseDuration(config.backoffMax ?? '30s'),
    drainRate: config.drainRate ?? 0,
    alertLane: config.alertLane ?? true,
    circuitOpenAfter: config.circuitOpenAfter ?? 3,
    deadLetterMaxBytes: parseSize(config.deadLetterMaxSize ?? '64MiB'),
  };
}

/** A sink's name: in logs, metrics, the buffer cursor and the dead-letter file name, so no path characters. */
export const SinkName = Type.String({
  pattern: '^[A-Za-z0-9_-][A-Za-z0-9_.-]*$',
  maxLength: 64,
  description: 'Names this sink in logs, metrics, /api/status, its buffer cursor and dataDir/dead-letter/<name>.ndjson.',
});
