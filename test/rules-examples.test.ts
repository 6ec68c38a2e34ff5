import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadRuleFiles } from '../rules/load.js';
import { runRulesTest } from '../rules/cli-test.js';
import { capture } from './rules-helpers.js';

const dir = join(import.meta.dirname, '..', 'rules', 'examples');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => join(dir, f));

describe('rules/examples', () => {
  it('has the five sample rule files the issue asks for', () => {
    expect(files.map((f) => f.split('/').pop()).sort()).toEqual([
      'cold-room-door.yaml',
      'deadman.yaml',
      'greenhouse-overtemp.yaml',
      'minute-average.yaml',
      'zone-heat.yaml',
    ]);
  });

  it('all load together through the schema', () => {
    const r = loadRuleFiles(files);
    expect(r.ok ? [] : r.problems).toEqual([]);
  });

  it.each(files)('%s passes its own tests', async (file) => {
    const io = capture();
    const code = await runRulesTest([file], io.streams);
    expect(io.stdout() + io.stderr()).not.toContain('✗');
    expect(code).toBe(0);
    expect(io.stdout()).toMatch(/[1-9]\d* tests: [1-9]\d* passed, 0 failed/);
  });
});
