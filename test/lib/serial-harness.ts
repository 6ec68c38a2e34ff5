/** Runs a SerialSource against a pty pair and records what it hands on. */
import type { Frame, SourceProblem } from '../../gateway/core/contracts.js';
import { SystemClock } from '../../gateway/core/clock.js';
import { SerialSource } from '../../devices/serial/serial-source.js';
import { resolveSerialSettings } from '../../devices/serial/settings.js';
import type { SerialPortConfig } from '../../devices/serial/schema.js';
import type { DeviceProfile } from '../../devices/profiles/schema.js';

export interface Harness {
  readonly source: SerialSource;
  readonly frames: Frame[];
  readonly problems: SourceProblem[];
  texts(): string[];
  codes(): string[];
}

export async function startSerial(port: SerialPortConfig, profiles: readonly DeviceProfile[], ingest?: (f: Frame) => void | Promise<void>): Promise<Harness> {
  const resolved = resolveSerialSettings(port, profiles);
  if (!resolved.settings) throw new Error(resolved.problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; '));
  const source = new SerialSource({ settings: resolved.settings, clock: new SystemClock() });
  const frames: Frame[] = [];
  const problems: SourceProblem[] = [];
  await source.start(
    (f) => {
      frames.push(f);
      return ingest?.(f);
    },
    (p) => problems.push(p),
  );
  return {
    source,
    frames,
    problems,
    texts: () => frames.map((f) => f.payload.toString('utf8')),
    codes: () => problems.map((p) => p.code),
  };
}
