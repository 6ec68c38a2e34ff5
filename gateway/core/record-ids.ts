/**
 * Record ids that are unique and stable: `{gatewayId}-{boot}-{seq}`. The boot
 * counter is kept on disk and raised at every start, so ids never repeat
 * across restarts and consumers can deduplicate replayed records by id.
 */
import { mkdirSync, readFileSync, writeFileSync, openSync, fsyncSync, closeSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { integerText } from './number-text.js';

export class RecordIds {
  readonly #prefix: string;
  #seq = 0;
  readonly boot: number;

  constructor(gatewayId: string, boot: number) {
    this.boot = boot;
    this.#prefix = `${gatewayId}-${boot}-`;
  }

  next(): string {
    // not `prefix + seq`: see number-text.ts (every id would stay reachable from V8's number-string cache)
    return this.#prefix + integerText(++this.#seq);
  }

  /** Raises and persists the boot counter under dataDir (fsynced before use). */
  static open(gatewayId: string, dataDir: string): RecordIds {
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, 'boot-counter');
    let previous = 0;
    try {
      previous = Number.parseInt(readFileSync(file, 'utf8'), 10) || 0;
    } catch {
      // first start
    }
    const boot = previous + 1;
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, `${boot}\n`);
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file);
    return new RecordIds(gatewayId, boot);
  }
}
