/** weir.yaml `rules:`: which rule files run, how they reload, and where alerts are published. */
import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../core/units.js';

export const RulesConfig = Type.Object(
  {
    files: Type.Array(Type.String(), { default: [], description: 'Rule files or globs, relative to weir.yaml.' }),
    watch: Type.Boolean({ default: true, description: 'Reload when a rule file changes (also on SIGHUP and POST /api/rules/reload).' }),
    alerts: Type.Object(
      {
        topic: Type.String({ default: 'weir/alerts/{rule}/{device}', description: 'Event topic on the embedded broker; `{rule}`, `{device}`, `{key}`, `{severity}`.' }),
        retainState: Type.Boolean({ default: true, description: 'Also publish the current state, retained, at the event topic plus `/state`.' }),
        qos: Type.Union([Type.Literal(0), Type.Literal(1)], { default: 1 }),
      },
      { additionalProperties: false, default: {}, description: 'Every alert transition is published on the embedded broker.' },
    ),
    maxKeysPerRule: Type.Integer({ minimum: 1, default: 10_000, description: 'Per-rule state keys; the least recently seen is evicted past it (counted).' }),
    idleTtl: Type.String({ pattern: DURATION_PATTERN, default: '6h', description: 'State of a key idle this long is evicted (counted).' }),
  },
  { additionalProperties: false, default: {}, description: 'Streaming alert rules (see rules/README.md).' },
);
export type RulesConfig = Static<typeof RulesConfig>;
