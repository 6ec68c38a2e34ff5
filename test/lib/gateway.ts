/**
 * Starts a real gateway in this process on ephemeral ports with a temp data
 * directory, from YAML text, so integration tests talk to it over sockets.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfigFile } from '../../gateway/config/load.js';
import { formatProblem } from '../../gateway/core/yaml-source.js';
import { startGateway, type Gateway } from '../../gateway/app.js';

export interface TestGateway {
  readonly gateway: Gateway;
  readonly dir: string;
  readonly mqttPort: number;
  readonly httpPort: number;
  readonly mqttUrl: string;
  readonly httpUrl: string;
  /** Stops the gateway (keeps the data dir so a restart can reuse it). */
  stop(): Promise<void>;
  /** Stops and deletes the data dir. */
  dispose(): Promise<void>;
}

const silent = pino({ level: process.env.WEIR_TEST_LOG ?? 'silent' });

/** `yaml` is merged under a config that already binds ports 0 on 127.0.0.1. */
export async function startTestGateway(yaml = '', options: { dir?: string } = {}): Promise<TestGateway> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'weir-test-'));
  const file = join(dir, 'weir.yaml');
  writeFileSync(file, withTestDefaults(yaml));
  const result = loadConfigFile(file);
  if (!result.ok) throw new Error(`test config invalid:\n${result.problems.map(formatProblem).join('\n')}`);
  const gateway = await startGateway(result.loaded, silent);
  const mqttPort = gateway.broker?.listeners.find((l) => l.name === 'tcp')?.port ?? 0;
  const httpPort = gateway.http?.port ?? 0;
  let stopped = false;
  const stop = async () => {
    if (!stopped) (stopped = true), await gateway.stop();
  };
  return {
    gateway,
    dir,
    mqttPort,
    httpPort,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    stop,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Prepends ephemeral-port defaults unless the test's YAML sets those sections itself. */
function withTestDefaults(yaml: string): string {
  const lines: string[] = [];
  if (!/^gateway:/m.test(yaml)) lines.push('gateway:', '  id: test-gw', '  dataDir: ./data');
  if (!/^http:/m.test(yaml)) lines.push('http:', '  host: 127.0.0.1', '  port: 0');
  if (!/^broker:/m.test(yaml)) lines.push('broker:', '  listeners:', '    tcp: { host: 127.0.0.1, port: 0 }');
  return `${lines.join('\n')}\n${yaml}\n`;
}
