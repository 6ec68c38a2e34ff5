/**
 * `weir doctor`: what the gateway can reach on this board. Each probe is a
 * plain function returning findings, so the CLI prints them and tests call
 * them against fake device trees.
 */
import { probeSerialPorts } from './serial.js';
import { probeGpio } from './gpio.js';
import { probeDataDir } from './data-dir.js';
import { probeClock } from './clock.js';
import type { Finding } from './finding.js';

export { probeSerialPorts, probeGpio, probeDataDir, probeClock };
export { formatFindings, exitCodeFor, worst, type Finding, type FindingStatus } from './finding.js';

export interface DoctorOptions {
  readonly dataDir: string;
  readonly serialPaths: readonly string[];
  readonly gpioPins: number;
  readonly gpioChip?: string;
}

export function runDoctor(options: DoctorOptions): Finding[] {
  return [
    ...probeSerialPorts({ configured: options.serialPaths }),
    ...probeGpio({ pins: options.gpioPins, ...(options.gpioChip !== undefined ? { chip: options.gpioChip } : {}) }),
    ...probeDataDir({ dir: options.dataDir }),
    ...probeClock(),
  ];
}
