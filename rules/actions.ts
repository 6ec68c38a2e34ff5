/**
 * What happens to an alert besides going upstream as a record. A rule lists
 * its actions; the gateway builds one AlertAction per entry (MQTT publish on
 * the embedded broker, webhook, a named actuator) and runs them for each
 * alert record the engine emits. Only the webhook lives here (webhook.ts);
 * the MQTT and actuator actions need the broker and the GPIO layer, so the
 * gateway supplies them through ActionFactories.
 */
import type { AlertRecord } from '../gateway/core/records.js';
import type { ActionSpec, ActuatorActionSpec, MqttActionSpec, WebhookActionSpec } from './schema-common.js';
import type { CompiledRule } from './types.js';

export type ActionOutcome =
  | { readonly ok: true; readonly attempts: number }
  | { readonly ok: false; readonly attempts: number; readonly retriable: boolean; readonly reason: string };

export interface AlertAction {
  readonly kind: ActionSpec['kind'];
  /** Whether this action runs for this transition (`on: [raise]` skips clears). */
  accepts(alert: AlertRecord): boolean;
  /** Never throws: failures are outcomes. The signal aborts retries at shutdown. */
  run(alert: AlertRecord, signal?: AbortSignal): Promise<ActionOutcome>;
}

export interface ActionFactories {
  readonly mqtt?: (spec: MqttActionSpec) => AlertAction;
  readonly webhook?: (spec: WebhookActionSpec) => AlertAction;
  readonly actuator?: (spec: ActuatorActionSpec) => AlertAction;
}

/** The defaults: events on `weir/alerts/{rule}/{device}`, current state retained beside them. */
export const DEFAULT_ALERT_TOPIC = 'weir/alerts/{rule}/{device}';
export const STATE_TOPIC_SUFFIX = '/state';

/**
 * The event and retained-state topics of an alert. `{device}` falls back to
 * the key (group rules have no single device). Values are made safe as topic
 * levels: `/`, `+`, `#` and NUL become `_` [MQTT-4.7.1-1] [MQTT-4.7.3-2].
 */
export function mqttTopicsFor(alert: AlertRecord, spec: Pick<MqttActionSpec, 'topic' | 'stateTopic'> = {}): { event: string; state: string } {
  const event = fill(topicParts(spec.topic ?? DEFAULT_ALERT_TOPIC), alert);
  return { event, state: spec.stateTopic ? fill(topicParts(spec.stateTopic), alert) : event + STATE_TOPIC_SUFFIX };
}

type TopicPart = string | { readonly field: 'rule' | 'device' | 'key' | 'severity' };

/** Topic templates split once (every alert is published): literal text and the fields between. */
const compiledTopics = new Map<string, readonly TopicPart[]>();

function topicParts(template: string): readonly TopicPart[] {
  let parts = compiledTopics.get(template);
  if (parts === undefined) {
    const list: TopicPart[] = [];
    let last = 0;
    for (const m of template.matchAll(/\{(rule|device|key|severity)\}/g)) {
      if (m.index > last) list.push(template.slice(last, m.index));
      list.push({ field: m[1] as 'rule' | 'device' | 'key' | 'severity' });
      last = m.index + m[0].length;
    }
    if (last < template.length) list.push(template.slice(last));
    if (compiledTopics.size < 1000) compiledTopics.set(template, list);
    parts = list;
  }
  return parts;
}

const UNSAFE = /[/+#\u0000]/;

function fill(parts: readonly TopicPart[], alert: AlertRecord): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') {
      out += p;
      continue;
    }
    const v = p.field === 'device' ? (alert.device ?? alert.key) : alert[p.field];
    out += UNSAFE.test(v) ? v.replace(/[/+#\u0000]/g, '_') : v;
  }
  return out;
}

export function acceptsState(on: readonly ('raise' | 'clear')[] | undefined, alert: AlertRecord): boolean {
  return on === undefined || on.includes(alert.state);
}

/**
 * One AlertAction per rule action entry, keyed by rule id. A kind without a
 * factory is reported (and skipped) rather than silently dropped.
 */
export function buildActions(rules: readonly CompiledRule[], factories: ActionFactories): { actions: Map<string, AlertAction[]>; missing: string[] } {
  const actions = new Map<string, AlertAction[]>();
  const missing: string[] = [];
  for (const rule of rules) {
    const list: AlertAction[] = [];
    for (const spec of rule.actions) {
      const action = make(spec, factories);
      if (action) list.push(action);
      else missing.push(`${rule.id}: no ${spec.kind} action available`);
    }
    if (list.length > 0) actions.set(rule.id, list);
  }
  return { actions, missing };
}

function make(spec: ActionSpec, f: ActionFactories): AlertAction | undefined {
  switch (spec.kind) {
    case 'mqtt':
      return f.mqtt?.(spec);
    case 'webhook':
      return f.webhook?.(spec);
    case 'actuator':
      return f.actuator?.(spec);
  }
}
