/** weir.yaml validation: every problem at once, each at file:line:col, nothing repaired. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile, loadDefaultConfig } from '../gateway/config/load.js';
import { formatProblem } from '../gateway/core/yaml-source.js';

const dir = mkdtempSync(join(tmpdir(), 'weir-config-'));
function load(yaml: string, env: NodeJS.ProcessEnv = {}, name = 'weir.yaml') {
  const file = join(dir, name);
  writeFileSync(file, yaml);
  return loadConfigFile(file, env);
}
function problems(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  const r = load(yaml, env);
  if (r.ok) return [];
  return r.problems.map((p) => formatProblem({ ...p, file: p.file.replace(`${dir}/`, '') }));
}

describe('the embedded default', () => {
  it('is valid, safe on a shared network, and frozen', () => {
    const r = loadDefaultConfig({});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const { config } = r.loaded;
    expect(config.broker.listeners.tcp).toEqual({ enabled: true, host: '0.0.0.0', port: 1883 });
    expect(config.broker.auth.anonymous).toBe('loopback');
    expect(config.http).toEqual({ enabled: true, host: '127.0.0.1', port: 8080 });
    expect(Object.isFrozen(config.broker.limits)).toBe(true);
    expect(() => {
      (config.broker.limits as { maxConnections: number }).maxConnections = 5;
    }).toThrow(TypeError);
  });
});

describe('invalid files are reported with line, column and message', () => {
  const cases: { name: string; yaml: string; expected: string[] }[] = [
    {
      name: 'unknown key',
      yaml: 'broker:\n  limits:\n    maxConections: 10\n',
      expected: ['weir.yaml:3:5: broker.limits.maxConections: unknown key'],
    },
    {
      name: 'wrong type',
      yaml: 'http:\n  port: "eighty"\n',
      expected: ['weir.yaml:2:9: http.port: expected integer'],
    },
    {
      name: 'out of range',
      yaml: 'http:\n  port: 70000\n',
      expected: ['weir.yaml:2:9: http.port: expected integer to be less or equal to 65535'],
    },
    {
      name: 'bad duration and bad size, both reported',
      yaml: 'broker:\n  limits:\n    connectTimeout: 30 seconds\n    maxPacketSize: 2 megabytes\n',
      expected: [
        'weir.yaml:3:21: broker.limits.connectTimeout: "30 seconds" does not match a duration such as 500ms, 30s, 5m, 1h',
        'weir.yaml:4:20: broker.limits.maxPacketSize: "2 megabytes" does not match a size such as 512B, 256KiB, 64MiB',
      ],
    },
    {
      name: 'enum value',
      yaml: 'broker:\n  auth:\n    anonymous: sometimes\n',
      expected: ['weir.yaml:3:16: broker.auth.anonymous: "sometimes" is not one of "loopback", "always", "never"'],
    },
    {
      name: 'unknown decoder kind',
      yaml: 'profiles:\n  - name: p\n    topic: a/{device}\n    decoder: { kind: xml }\n',
      expected: ['weir.yaml:4:22: profiles.0.decoder.kind: unknown kind "xml"; expected one of json, value, csv, kv, csv-header, nmea, binary'],
    },
    {
      name: 'missing required field inside a decoder',
      yaml: 'profiles:\n  - name: p\n    topic: a/{device}\n    decoder: { kind: csv }\n',
      expected: ['weir.yaml:4:14: profiles.0.decoder.columns: is required'],
    },
    {
      name: 'bad topic pattern and missing device segment',
      yaml: 'profiles:\n  - name: a\n    topic: x/{dev/y\n    decoder: { kind: json }\n  - name: b\n    topic: x/y\n    decoder: { kind: json }\n',
      expected: [
        'weir.yaml:3:12: profiles.0.topic: level "{dev" must be a whole {name} segment',
        'weir.yaml:6:12: profiles.1.topic: the pattern needs a {device} segment, or set `device`',
      ],
    },
    {
      name: 'duplicate profile names',
      yaml: 'profiles:\n  - { name: a, topic: "x/{device}", decoder: { kind: json } }\n  - { name: a, topic: "y/{device}", decoder: { kind: json } }\n',
      expected: ['weir.yaml:3:13: profiles.1.name: duplicate profile name "a"'],
    },
    {
      name: 'TLS without certificate',
      yaml: 'broker:\n  listeners:\n    tls: { enabled: true }\n',
      expected: ['weir.yaml:3:10: broker.listeners.tls: an enabled TLS listener needs both `cert` and `key`'],
    },
    {
      name: 'two listeners on one port',
      yaml: 'broker:\n  listeners:\n    tcp: { port: 1900 }\n    ws: { enabled: true, port: 1900 }\n',
      expected: ['weir.yaml:4:32: broker.listeners.ws.port: port 1900 is already used by the tcp listener'],
    },
    {
      name: 'YAML syntax error',
      yaml: 'broker:\n  limits: [1, 2\n',
      expected: ['weir.yaml:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]'],
    },
    {
      name: 'duplicate keys',
      yaml: 'http:\n  port: 1\n  port: 2\n',
      expected: ['weir.yaml:3:3: Map keys must be unique'],
    },
    {
      name: 'alias bomb',
      yaml: ['a: &a [x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]'].join('\n'),
      expected: ['weir.yaml:1:1: Excessive alias count indicates a resource exhaustion attack'],
    },
    {
      name: 'not a mapping',
      yaml: '- just\n- a list\n',
      expected: ['weir.yaml:1:1: the config must be a mapping of sections'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(problems(c.yaml)).toEqual(c.expected));
  }
});

describe('environment interpolation', () => {
  it('fills ${VAR} and ${VAR:-default}, and keeps $${ literal', () => {
    const r = load('gateway:\n  id: ${GW_ID}\n  dataDir: ${DATA:-/var/lib/weir}\nprofiles:\n  - { name: p, topic: "a/{device}", decoder: { kind: json }, description: "cost $${x}" }\n', { GW_ID: 'pi-7' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.loaded.config.gateway).toMatchObject({ id: 'pi-7', dataDir: '/var/lib/weir' });
    expect(r.loaded.profiles[0]!.description).toBe('cost ${x}');
  });
  it('reports an unset variable at its place instead of using an empty string', () => {
    expect(problems('ingest:\n  external:\n    - name: up\n      url: mqtt://127.0.0.1:1884\n      password: ${MQTT_PASSWORD}\n')).toEqual([
      'weir.yaml:5:17: ingest.external.0.password: environment variable MQTT_PASSWORD is not set (write ${MQTT_PASSWORD:-default} for a fallback)',
    ]);
  });
});

describe('profile files', () => {
  it('loads profiles from files and globs, and locates problems in those files', () => {
    writeFileSync(join(dir, 'good.profile.yaml'), 'name: plug\ntopic: "plugs/{device}/state"\ndecoder: { kind: kv }\n');
    writeFileSync(join(dir, 'bad.profile.yaml'), '- name: broken\n  topic: "x/{device}"\n  decoder: { kind: json }\n  colour: red\n');
    const r = load('profileFiles: ["*.profile.yaml"]\n');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => formatProblem({ ...p, file: p.file.replace(`${dir}/`, '') }))).toEqual(['bad.profile.yaml:4:3: 0.colour: unknown key']);
  });
});
