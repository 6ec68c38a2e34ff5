/** Command-line flags override the config file: applied to the loaded, frozen config as a new frozen copy. */
import type { LoadedConfig } from '../config/load.js';
import { deepFreeze } from '../config/load.js';
import type { WeirConfig } from '../config/schema.js';

export interface StartOverrides {
  readonly mqttPort?: number;
  readonly httpPort?: number;
  readonly dataDir?: string;
}

export function applyOverrides(loaded: LoadedConfig, o: StartOverrides): LoadedConfig {
  if (o.mqttPort === undefined && o.httpPort === undefined && o.dataDir === undefined) return loaded;
  const config = structuredClone(loaded.config) as WeirConfig;
  if (o.mqttPort !== undefined) config.broker.listeners.tcp.port = o.mqttPort;
  if (o.httpPort !== undefined) config.http.port = o.httpPort;
  if (o.dataDir !== undefined) config.gateway.dataDir = o.dataDir;
  return { ...deepFreeze({ config, profiles: loaded.profiles, file: loaded.file }), rules: loaded.rules };
}

export function parsePort(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`not a port number: ${text}`);
  return n;
}
