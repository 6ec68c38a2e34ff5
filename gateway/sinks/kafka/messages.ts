/**
 * How a weir record becomes a Kafka message. This is a contract with every
 * consumer of the topics (see docs/schemas for the value's JSON Schema):
 * key = device id, so one device's records share a partition and keep their order;
 * value = the record JSON as weir stores it; headers let consumers route and
 * deduplicate without parsing the value.
 */
import type { MessageToProduce } from '@platformatic/kafka';
import type { PipelineRecord } from '../../core/contracts.js';
import { WeirError } from '../../core/errors.js';

export const HEADER_ID = 'weir-id';
export const HEADER_GATEWAY = 'weir-gateway';
export const HEADER_KIND = 'weir-kind';
/** Present (value `true`) only on records re-sent after an outage. */
export const HEADER_REPLAY = 'weir-replay';

export type KafkaMessage = MessageToProduce<string, string, string, string> & { readonly topic: string };

export interface ResolvedTopics {
  readonly reading: string;
  readonly alert: string;
}

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

/** Fills `{gateway}` and `{kind}`; throws at boot if the result is no legal Kafka topic name. */
export function resolveTopic(template: string, values: { gateway: string; kind: PipelineRecord['kind'] }): string {
  const topic = template.replaceAll('{gateway}', values.gateway).replaceAll('{kind}', values.kind);
  if (!LEGAL_TOPIC.test(topic) || topic === '.' || topic === '..') {
    throw new WeirError(
      'CONFIG_INVALID',
      `Kafka topic template ${JSON.stringify(template)} gives ${JSON.stringify(topic)}, which is not a legal topic name (letters, digits, '.', '_', '-'; at most 249)`,
    );
  }
  return topic;
}

/** Alerts without a device are keyed by their rule key, so each key's raise/clear stay in order. */
export function messageKey(record: PipelineRecord): string {
  return record.kind === 'reading' ? record.device : (record.device ?? record.key);
}

export function toKafkaMessage(record: PipelineRecord, topics: ResolvedTopics, gatewayId: string): KafkaMessage {
  const headers: Record<string, string> = {
    [HEADER_ID]: record.id,
    [HEADER_GATEWAY]: gatewayId,
    [HEADER_KIND]: record.kind,
  };
  if (record.kind === 'reading' && record.flags?.includes('replay')) headers[HEADER_REPLAY] = 'true';
  // No message timestamp from the record: Kafka rejects timestamps far in the future
  // (message.timestamp.after.max.ms), and a device clock can be. Event time is in the value.
  return { topic: topics[record.kind], key: messageKey(record), value: JSON.stringify(record), headers };
}
