/** The generated reference docs match the schema, and every record weir emits matches its published schema. */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { generatedDocs } from '../gateway/tools/reference.js';
import { readRecord } from '../gateway/core/record-reader.js';
import { loadConfigFile } from '../gateway/config/load.js';
import { formatProblem } from '../gateway/core/yaml-source.js';
import { startTestGateway } from './lib/gateway.js';
import { client, collector } from './lib/mqtt.js';

const root = join(import.meta.dirname, '..');

describe('generated docs', () => {
  for (const [file, text] of Object.entries(generatedDocs())) {
    it(`${file} is up to date (run \`npm run docs\` after changing a schema)`, () => {
      expect(readFileSync(join(root, file), 'utf8')).toBe(text);
    });
  }
});

describe('example configs', () => {
  const dir = join(root, 'deploy', 'examples');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    it(`${file} loads through the schema`, () => {
      const r = loadConfigFile(join(dir, file), { MQTT_PASSWORD: 'x' });
      expect(r.ok ? [] : r.problems.map(formatProblem)).toEqual([]);
    });
  }
});

describe('record contract', () => {
  it('readings on the wire are valid reading v1 records', async () => {
    const gw = await startTestGateway();
    try {
      const sub = await client(gw.mqttUrl);
      const got = await collector(sub, 'weir/readings/#');
      const pub = await client(gw.mqttUrl);
      await pub.publishAsync('weir/r1/telemetry', '{"a":1,"b":true}', { qos: 1 });
      for (const m of await got.next(2)) expect(readRecord(m.payload.toString())).toMatchObject({ ok: true });
      await Promise.all([sub.endAsync(), pub.endAsync()]);
    } finally {
      await gw.dispose();
    }
  });
  it('rejects unknown kinds and versions with a reason', () => {
    expect(readRecord('{"kind":"reading","v":9}')).toEqual({ ok: false, error: 'unknown reading version 9' });
    expect(readRecord('{"kind":"nope","v":1}')).toEqual({ ok: false, error: 'unknown record kind "nope"' });
    expect(readRecord('{')).toMatchObject({ ok: false });
    expect(readRecord({ v: 1, kind: 'reading', id: 'x' })).toMatchObject({ ok: false });
  });
});
