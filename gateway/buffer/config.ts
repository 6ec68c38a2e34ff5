/**
 * The `buffer:` section of weir.yaml: where the disk budget is, what happens
 * when it is spent, and how often data is forced to the storage medium.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DURATION_PATTERN, SIZE_PATTERN, parseDuration, parseSize } from '../core/units.js';
import { WeirError } from '../core/errors.js';

const Duration = (def: string, description: string) => Type.String({ pattern: DURATION_PATTERN, default: def, description });
const Size = (def: string, description: string) => Type.String({ pattern: SIZE_PATTERN, default: def, description });

export const BufferConfig = Type.Object(
  {
    maxBytes: Size('512MiB', 'Disk budget for buffered records (all segments together).'),
    maxAge: Duration('7d', 'Records older than this are dropped (counted as `max-age`), whether delivered or not.'),
    whenFull: Type.Union([Type.Literal('drop-oldest'), Type.Literal('reject-new')], {
      default: 'drop-oldest',
      description:
        '`drop-oldest`: make room by dropping the oldest readings first, then the oldest alerts. ' +
        '`reject-new`: refuse appends (devices get no PUBACK and resend later); readings are refused at 95% full, alerts only at 100%.',
    }),
    segmentSize: Size('16MiB', 'Size at which the log starts a new segment file; space is reclaimed a whole segment at a time. At most maxBytes/4.'),
    fsync: Type.Object(
      {
        policy: Type.Union([Type.Literal('always'), Type.Literal('interval')], {
          default: 'always',
          description:
            '`always`: an append is acknowledged only after fdatasync (concurrent appends share one: group commit); survives power loss. ' +
            '`interval`: acknowledged once written to the OS (survives a crash or kill -9), fdatasync every `interval`; a power cut can lose the last `interval`.',
        }),
        interval: Duration('50ms', 'How often the `interval` policy forces data to the medium.'),
      },
      { additionalProperties: false, default: {}, description: 'When appended records are forced to the storage medium.' },
    ),
    cursorSync: Duration('1s', 'How often changed sink cursors are written (atomically). After a crash, a sink re-receives at most what it was sent in this window.'),
  },
  { additionalProperties: false, default: {}, description: 'The durable store-and-forward buffer under dataDir/buffer.' },
);
export type BufferConfig = Static<typeof BufferConfig>;

/** The config as numbers, checked across fields. */
export interface BufferLimits {
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly whenFull: 'drop-oldest' | 'reject-new';
  readonly segmentBytes: number;
  readonly fsync: 'always' | 'interval';
  readonly fsyncIntervalMs: number;
  readonly cursorSyncMs: number;
}

/** Defaults filled in; for tests, benchmarks and the CLI (weir.yaml loading fills them itself). */
export function bufferConfig(partial: unknown = {}): BufferConfig {
  const value = Value.Default(BufferConfig, structuredClone(partial));
  if (!Value.Check(BufferConfig, value)) {
    const first = Value.Errors(BufferConfig, value).First();
    throw new WeirError('CONFIG_INVALID', `buffer${first?.path ?? ''}: ${first?.message ?? 'invalid'}`);
  }
  return value;
}

export function bufferLimits(config: BufferConfig): BufferLimits {
  const limits: BufferLimits = {
    maxBytes: parseSize(config.maxBytes),
    maxAgeMs: parseDuration(config.maxAge),
    whenFull: config.whenFull,
    segmentBytes: parseSize(config.segmentSize),
    fsync: config.fsync.policy,
    fsyncIntervalMs: Math.max(1, parseDuration(config.fsync.interval)),
    cursorSyncMs: Math.max(1, parseDuration(config.cursorSync)),
  };
  // Space comes back a segment at a time: with fewer than four, dropping one frees too much at once.
  if (limits.segmentBytes * 4 > limits.maxBytes) {
    throw new WeirError('CONFIG_INVALID', `buffer.segmentSize (${config.segmentSize}) must be at most a quarter of buffer.maxBytes (${config.maxBytes})`);
  }
  if (limits.segmentBytes < 4096) throw new WeirError('CONFIG_INVALID', `buffer.segmentSize (${config.segmentSize}) must be at least 4KiB`);
  if (limits.maxAgeMs < 1000) throw new WeirError('CONFIG_INVALID', `buffer.maxAge (${config.maxAge}) must be at least 1s`);
  return limits;
}
