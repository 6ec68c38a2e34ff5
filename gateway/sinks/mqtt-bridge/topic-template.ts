/**
 * Topic remapping: a template such as `weir/{gateway}/{kind}/{device}` filled
 * from a record. Each placeholder fills exactly one topic level: `/`, `+`, `#`
 * and NUL inside a value become `_` (wildcards are not allowed in a PUBLISH
 * topic [MQTT-3.3.2-2]; a `/` from a device id would shift the levels).
 */
import type { PipelineRecord } from '../../core/contracts.js';
import { WeirError } from '../../core/errors.js';

const PLACEHOLDERS = ['gateway', 'kind', 'device', 'metric', 'rule', 'severity'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

export type TopicFor = (record: PipelineRecord) => string;

/** Checks the template at boot; the returned function never throws. */
export function compileTopic(template: string, gateway: string): TopicFor {
  if (!template || /[+#\u0000]/.test(template.replace(/\{[^}]*\}/g, ''))) {
    throw new WeirError('CONFIG_INVALID', `mqtt topic template ${JSON.stringify(template)}: must be non-empty, without + # or NUL [MQTT-3.3.2-2]`);
  }
  for (const m of template.matchAll(/\{([^}]*)\}/g)) {
    if (!(PLACEHOLDERS as readonly string[]).includes(m[1]!)) {
      throw new WeirError('CONFIG_INVALID', `mqtt topic template ${JSON.stringify(template)}: unknown placeholder {${m[1]}}; use ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`);
    }
  }
  return (r) => template.replace(/\{([a-z]+)\}/g, (_, p: Placeholder) => level(valueOf(r, p, gateway)));
}

function valueOf(r: PipelineRecord, p: Placeholder, gateway: string): string | undefined {
  switch (p) {
    case 'gateway':
      return gateway;
    case 'kind':
      return r.kind;
    case 'device':
      return r.device;
    case 'metric':
      return r.kind === 'reading' ? r.metric : undefined;
    case 'rule':
      return r.kind === 'alert' ? r.rule : undefined;
    case 'severity':
      return r.kind === 'alert' ? r.severity : undefined;
  }
}

const level = (v: string | undefined) => (v ? v.replace(/[/+#\u0000]/g, '_') : '_');
