/**
 * Generates the reference docs from the one schema: docs/config.md (every
 * weir.yaml key with type, default and meaning), docs/errors.md and the
 * record JSON Schemas. A test fails when a committed file drifts from this.
 */
import type { TSchema } from '@sinclair/typebox';
import { WeirConfig } from '../config/schema.js';
import { ERROR_CODES } from '../core/errors.js';
import { RECORD_SCHEMAS } from '../core/records.js';

export function generatedDocs(): Record<string, string> {
  const files: Record<string, string> = {
    'docs/config.md': configReference(),
    'docs/errors.md': errorCatalogue(),
    'docs/schemas/weir-config.json': jsonText(WeirConfig),
  };
  for (const [name, schema] of Object.entries(RECORD_SCHEMAS)) files[`docs/schemas/${name}.json`] = jsonText(schema);
  return files;
}

function jsonText(schema: TSchema): string {
  return `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...schema }, null, 2)}\n`;
}

function configReference(): string {
  const rows: string[] = [];
  walk(WeirConfig, '', rows);
  return [
    '# weir.yaml reference',
    '',
    '<!-- Generated from gateway/config/schema.ts by `npm run docs`; do not edit by hand. -->',
    '',
    'Every key is optional unless marked required; unknown keys are errors. Durations are written',
    '`500ms`, `30s`, `5m`, `1h`, `1d`; sizes `512B`, `256KiB`, `64MiB`, `1GiB`. Any string may use',
    '`${ENV_VAR}` or `${ENV_VAR:-fallback}`; `$${` writes a literal `${`. `weir schema` prints the',
    'JSON Schema for editors; `weir check --config FILE` validates a file and everything it references.',
    '',
    '| key | type | default | meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

function walk(schema: TSchema, path: string, rows: string[], required = false): void {
  if (path) rows.push(`| \`${path}\`${required ? ' (required)' : ''} | ${typeName(schema)} | ${defaultText(schema)} | ${cell(schema.description ?? '')} |`);
  if (schema.type === 'object' && schema.properties) {
    const req = new Set<string>((schema.required as string[] | undefined) ?? []);
    for (const [key, child] of Object.entries(schema.properties as Record<string, TSchema>)) {
      walk(child, path ? `${path}.${key}` : key, rows, req.has(key) && child.default === undefined);
    }
  }
  if (schema.type === 'array' && (schema.items as TSchema | undefined)?.type === 'object') walk(schema.items as TSchema, `${path}[]`, rows);
}

function typeName(s: TSchema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.anyOf) return (s.anyOf as TSchema[]).map(typeName).join(' \\| ');
  if (s.type === 'array') return `list of ${typeName(s.items as TSchema)}`;
  if (s.type === 'object' && s.patternProperties) return 'map';
  if (s.pattern?.includes('ms|s|m|h|d')) return 'duration';
  if (s.pattern?.includes('KiB')) return 'size';
  if (s.type === 'integer' && s.minimum !== undefined && s.maximum !== undefined) return `integer ${s.minimum}..${s.maximum}`;
  return String(s.type ?? 'any');
}

function defaultText(s: TSchema): string {
  if (s.default === undefined) return '';
  if (typeof s.default === 'object' && s.default !== null && Object.keys(s.default).length === 0) return '';
  return `\`${JSON.stringify(s.default)}\``;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function errorCatalogue(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, e]) => `| \`${code}\` | ${e.retriable ? 'yes' : 'no'} | ${e.summary} |`);
  return [
    '# Error codes',
    '',
    '<!-- Generated from gateway/core/errors.ts by `npm run docs`; do not edit by hand. -->',
    '',
    'weir fails at boot with one of these codes (`WeirError.code`); in the running gateway the same',
    'conditions become counted events in `/metrics` and log lines, never crashes.',
    '',
    '| code | retrying can help | meaning |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
