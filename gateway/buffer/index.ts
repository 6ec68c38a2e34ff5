/** The durable store-and-forward buffer: what the composition root and the CLI use. */
export { BufferConfig, bufferConfig, bufferLimits, type BufferLimits } from './config.js';
export { openBuffer, openBufferReadOnly, bufferDir, type OpenBufferOptions } from './open.js';
export { runBufferStats, runBufferInspect } from './cli.js';
export type { DiskBuffer } from './buffer.js';
