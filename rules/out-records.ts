/**
 * The records a rule emits: alert transitions (AlertRecord v1) and derived
 * readings (ReadingRecord v1 with `source: rule:<id>`). Messages are rendered
 * here, once per transition, never per reading.
 */
import type { AlertRecord, ReadingRecord } from '../gateway/core/records.js';
import { isoTime } from './template.js';
import type { CompiledRule, ReadingValue, TemplateVars } from './types.js';

const hasOwn = Object.hasOwn;

export interface AlertInput {
  readonly rule: CompiledRule;
  readonly id: string;
  readonly key: string;
  readonly device: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
  readonly state: 'raise' | 'clear';
  readonly ts: number;
  readonly value: ReadingValue | undefined;
  readonly evidence: unknown[];
  readonly vars: TemplateVars;
  readonly maxEvidence: number;
  /** Appended to the message, e.g. why state was evicted. */
  readonly note: string | undefined;
}

export function alertRecord(a: AlertInput): AlertRecord {
  const rule = a.rule;
  const vars = a.vars;
  // the operator's variables under the alert's own; looked up, not merged into a copy (a spread per alert was costly)
  const root = (name: string): unknown => {
    switch (name) {
      case 'rule':
        return rule.id;
      case 'key':
        return a.key;
      case 'severity':
        return rule.severity;
      case 'labels':
        return rule.labels;
      case 'device':
        return vars['device'] ?? a.device;
      case 'tags':
        return vars['tags'] ?? a.tags;
      // times are kept as epoch ms and written out only when a message shows them
      case 'ts':
      case 'since': {
        const t = vars[name];
        return typeof t === 'number' ? isoTime(t) : t;
      }
      default:
        return hasOwn(vars, name) ? vars[name] : undefined;
    }
  };
  let message: string;
  if (a.note !== undefined) message = `${rule.message.renderBy(root)} (${a.note})`;
  else if (a.state === 'raise') message = rule.message.renderBy(root);
  else message = rule.clearMessage ? rule.clearMessage.renderBy(root) : `resolved: ${rule.message.renderBy(root)}`;
  // the latest evidence is the most telling
  const evidence = a.evidence.length > a.maxEvidence ? a.evidence.slice(a.evidence.length - a.maxEvidence) : a.evidence;
  const tags = { ...a.tags, ...rule.labels };
  const ts = Math.round(a.ts);
  // most alerts have a device and a value: one literal, no spread of a temporary object per alert
  if (a.device !== undefined && a.value !== undefined) {
    return { v: 1, kind: 'alert', id: a.id, rule: rule.id, key: a.key, device: a.device, state: a.state, severity: rule.severity, message, ts, value: a.value, evidence, tags };
  }
  return {
    v: 1,
    kind: 'alert',
    id: a.id,
    rule: rule.id,
    key: a.key,
    ...(a.device === undefined ? {} : { device: a.device }),
    state: a.state,
    severity: rule.severity,
    message,
    ts,
    ...(a.value === undefined ? {} : { value: a.value }),
    evidence,
    tags,
  };
}

export interface DerivedInput {
  /** `rule:<id>`, made once per rule. */
  readonly source: string;
  readonly id: string;
  /** The key's device, or the key itself (a zone) for keys that are not devices. */
  readonly device: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly metric: string;
  readonly value: number;
  readonly unit: string | undefined;
  readonly ts: number;
  readonly receivedAt: number;
}

export const derivedSource = (rule: CompiledRule): string => `rule:${rule.id}`;

/** Two literals rather than a spread for `unit`: one object shape each, and no copying helper per record. */
export function derivedReading(d: DerivedInput): ReadingRecord {
  const tags = { ...d.tags };
  const ts = Math.round(d.ts);
  if (d.unit === undefined) {
    return { v: 1, kind: 'reading', id: d.id, device: d.device, metric: d.metric, value: d.value, ts, receivedAt: d.receivedAt, source: d.source, tags };
  }
  return { v: 1, kind: 'reading', id: d.id, device: d.device, metric: d.metric, value: d.value, unit: d.unit, ts, receivedAt: d.receivedAt, source: d.source, tags };
}
