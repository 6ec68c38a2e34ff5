/** `weir start`: load config, run the gateway, stop cleanly on SIGTERM/SIGINT. */
import type { Logger } from 'pino';
import { loadConfigFile, loadDefaultConfig, type LoadedConfig } from '../config/load.js';
import { formatProblem } from '../core/yaml-source.js';
import { createLogger } from '../log.js';
import { startGateway } from '../app.js';
import { applyOverrides, type StartOverrides } from './overrides.js';
import { isWeirError } from '../core/errors.js';

export async function runStart(options: StartOverrides & { config?: string }): Promise<number> {
  const result = options.config ? loadConfigFile(options.config) : loadDefaultConfig();
  if (!result.ok) {
    for (const p of result.problems) process.stderr.write(`${formatProblem(p)}\n`);
    process.stderr.write(`weir: ${result.problems.length} problem(s) in the configuration; not starting.\n`);
    return 1;
  }
  const loaded: LoadedConfig = applyOverrides(result.loaded, options);
  const log = createLogger(loaded.config.log);
  if (!loaded.file) log.info('No --config given: running on the embedded defaults.');
  let gateway;
  try {
    gateway = await startGateway(loaded, log);
  } catch (error) {
    log.fatal({ err: error, code: isWeirError(error) ? error.code : undefined }, `weir could not start: ${(error as Error).message}`);
    await flush(log);
    return 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'Stopping: closing listeners, flushing, closing stores.');
      gateway.stop().then(
        () => {
          log.info('Stopped cleanly.');
          flush(log).then(() => resolve(0));
        },
        (error: unknown) => {
          log.error({ err: error }, 'Shutdown did not finish cleanly.');
          flush(log).then(() => resolve(1));
        },
      );
    };
    process.on('SIGHUP', () => {
      log.info('SIGHUP: reloading.');
      gateway.reload().catch((error: unknown) => log.error({ err: error }, 'Reload failed; the running configuration stays.'));
    });
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

function flush(log: Logger): Promise<void> {
  return new Promise((resolve) => log.flush(() => resolve()));
}
