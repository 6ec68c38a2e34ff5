/**
 * Checks the schema cannot express: cross-field rules and things that must
 * compile (topic patterns). Each problem points at the value that causes it.
 */
import type { WeirConfig } from './schema.js';
import type { DeviceProfile } from '../../devices/profiles/schema.js';
import { topicPatternProblem } from '../../devices/profiles/topic-pattern.js';
import type { Problem, YamlSource } from '../core/yaml-source.js';
import type { ProfileOrigin } from './profile-files.js';
import { serialBindingProblems } from '../../devices/serial/settings.js';
import { resolveGpioPins } from '../../devices/gpio/settings.js';

export function checkConfigSemantics(
  config: WeirConfig,
  profiles: readonly DeviceProfile[],
  source: YamlSource,
  fileOrigins: readonly ProfileOrigin[],
): Problem[] {
  const problems: Problem[] = [];
  const at = (src: YamlSource, path: readonly (string | number)[], message: string) =>
    problems.push({ file: src.file, ...src.locate(path), message: `${path.join('.')}: ${message}` });

  const tls = config.broker.listeners.tls;
  if (tls.enabled && (!tls.cert || !tls.key)) at(source, ['broker', 'listeners', 'tls'], 'an enabled TLS listener needs both `cert` and `key`');

  const ports = new Map<number, string>();
  for (const name of ['tcp', 'ws', 'tls'] as const) {
    const l = config.broker.listeners[name];
    if (!config.broker.enabled || !l.enabled || l.port === 0) continue;
    const other = ports.get(l.port);
    if (other) at(source, ['broker', 'listeners', name, 'port'], `port ${l.port} is already used by the ${other} listener`);
    ports.set(l.port, name);
  }

  config.broker.auth.acl?.forEach((entry, i) => {
    const problem = topicPatternProblem(entry.topic.replace(/%[uc]/g, 'x'));
    if (problem || /[{}]/.test(entry.topic)) at(source, ['broker', 'auth', 'acl', i, 'topic'], problem ?? 'ACL topics are MQTT filters; use %u and %c, not {names}');
  });

  const names = new Set<string>();
  config.ingest.external.forEach((ext, i) => {
    if (names.has(ext.name)) at(source, ['ingest', 'external', i, 'name'], `duplicate name ${JSON.stringify(ext.name)}`);
    names.add(ext.name);
  });
  if (!config.broker.enabled && config.ingest.external.length === 0) {
    at(source, ['broker', 'enabled'], 'with the embedded broker disabled, configure at least one `ingest.external` broker to ingest from');
  }

  const seen = new Set<string>();
  profiles.forEach((profile, i) => {
    const origin = i < config.profiles.length ? { source, path: ['profiles', i] } : fileOrigins[i - config.profiles.length]!;
    const path = [...origin.path];
    if (seen.has(profile.name)) at(origin.source, [...path, 'name'], `duplicate profile name ${JSON.stringify(profile.name)}`);
    seen.add(profile.name);
    const problem = profile.topic === undefined ? undefined : topicPatternProblem(profile.topic);
    if (profile.topic === undefined) {
      if (profile.transport === undefined) at(origin.source, path, 'a profile needs `topic` (MQTT devices) or `transport` (serial and GPIO devices)');
    } else if (problem) at(origin.source, [...path, 'topic'], problem);
    else if (!profile.topic.includes('{device}') && profile.device === undefined) {
      at(origin.source, [...path, 'topic'], 'the pattern needs a {device} segment, or set `device`');
    }
    if (profile.decoder.kind === 'value' && !(profile.topic ?? '').includes('{metric}') && profile.decoder.metric === undefined) {
      at(origin.source, [...path, 'decoder'], 'a value decoder needs a {metric} topic segment or `metric`');
    }
  });
  for (const p of serialBindingProblems(config.serial, profiles)) at(source, ['serial', ...p.path], p.message);
  for (const p of resolveGpioPins(config.gpio.pins, profiles).problems) at(source, ['gpio', 'pins', ...p.path], p.message);
  return problems;
}
