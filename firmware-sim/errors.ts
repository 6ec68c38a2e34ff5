/**
 * The simulator's closed list of error codes, thrown at setup only. Once a run
 * is going, trouble (a refused connection, a failed write) is a counted event
 * in the stats, never an exception out of a socket callback.
 */
export const SIM_ERROR_CODES = {
  SCENARIO_INVALID: { retriable: false, summary: 'The scenario file or the quick-form options failed validation.' },
  NO_BROKER: { retriable: false, summary: 'MQTT devices but no broker URL (scenario mqtt.url or --mqtt).' },
  NO_GPIO_CHIP: { retriable: false, summary: 'GPIO devices need an in-process chip (startFleet({ gpio })); the command line has none.' },
  SERIAL_SETUP_FAILED: { retriable: true, summary: 'A pty pair could not be made (socat missing?) or a serial port could not be opened.' },
  BAD_OPTION: { retriable: false, summary: 'A command-line option is malformed or conflicts with the scenario.' },
} as const satisfies Record<string, { retriable: boolean; summary: string }>;

export type SimErrorCode = keyof typeof SIM_ERROR_CODES;

export class SimError extends Error {
  readonly code: SimErrorCode;
  readonly retriable: boolean;

  constructor(code: SimErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SimError';
    this.code = code;
    this.retriable = SIM_ERROR_CODES[code].retriable;
  }
}
