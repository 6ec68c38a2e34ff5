/**
 * The closed list of weir's error codes. Each code says whether retrying can help;
 * docs/errors.md is the catalogue. Throw WeirError at boot; in the hot path a
 * failure becomes a counted event instead.
 */
export const ERROR_CODES = {
  CONFIG_INVALID: { retriable: false, summary: 'A config or rule file failed validation.' },
  CONFIG_UNREADABLE: { retriable: false, summary: 'A config file could not be read or parsed as YAML.' },
  CONFIG_ENV_MISSING: { retriable: false, summary: 'A ${VAR} in the config names an unset environment variable.' },
  USERS_FILE_INVALID: { retriable: false, summary: 'The MQTT users file has a malformed line.' },
  LISTEN_FAILED: { retriable: true, summary: 'A listener could not bind its address (port in use, permission).' },
  TLS_FILES_UNREADABLE: { retriable: false, summary: 'The TLS certificate or key could not be read.' },
  PERSISTENCE_FAILED: { retriable: true, summary: 'The broker persistence store could not be opened or written.' },
  DECODE_FAILED: { retriable: false, summary: 'A payload could not be decoded by its profile.' },
  UNROUTED: { retriable: false, summary: 'No device profile matched the topic or address.' },
  UPSTREAM_UNREACHABLE: { retriable: true, summary: 'An external broker or sink could not be reached.' },
  SHUTDOWN_TIMEOUT: { retriable: false, summary: 'Shutdown did not finish within its bound.' },
  BUFFER_FULL: { retriable: true, summary: 'The buffer refused an append: its disk budget is spent (`reject-new`) or the append is larger than the budget.' },
  BUFFER_WRITE_FAILED: { retriable: true, summary: 'The buffer could not write or fsync an append (disk full, I/O error); the append was not acknowledged.' },
  BUFFER_CORRUPT: { retriable: false, summary: 'A buffer record failed its checksum; it was skipped and counted, everything around it kept.' },
  BUFFER_LOCKED: { retriable: false, summary: 'Another running process holds the buffer directory.' },
  BUFFER_OPEN_FAILED: { retriable: true, summary: 'The buffer directory could not be created, read or written at start.' },
  BUFFER_CLOSED: { retriable: false, summary: 'The buffer was used after close().' },
} as const satisfies Record<string, { retriable: boolean; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class WeirError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WeirError';
    this.code = code;
    this.retriable = ERROR_CODES[code].retriable;
  }
}

export function isWeirError(e: unknown, code?: ErrorCode): e is WeirError {
  return e instanceof WeirError && (code === undefined || e.code === code);
}
