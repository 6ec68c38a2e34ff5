/**
 * pino, one child logger per component. JSON lines for journald and log
 * shippers; pretty output when a person is watching a terminal.
 */
import { pino, type Logger } from 'pino';

export function createLogger(options: { level: string; pretty: boolean | 'auto' }): Logger {
  const pretty = options.pretty === 'auto' ? Boolean(process.stdout.isTTY) : options.pretty;
  return pino({
    level: options.level,
    base: { service: 'weir' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  });
}

export type { Logger };
