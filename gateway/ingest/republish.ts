/**
 * Publishes normalized readings back on the broker (`weir/readings/{device}`)
 * and bad frames on the dead-letter topic, so local consumers (Node-RED, Home
 * Assistant) can use them without knowing any device's format.
 */
import type { ReadingRecord } from '../core/records.js';
import type { Metrics } from '../metrics/metrics.js';
import type { BadFrame, ReadingConsumer } from './pipeline.js';

export type Publish = (topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }) => unknown;

export function topicTemplate(template: string): (vars: Readonly<Record<string, string>>) => string {
  // compiled once: literal parts as strings, placeholders as names (null = literal)
  const parts = template.split(/(\{[a-z]+\})/).filter((p) => p !== '');
  const names = parts.map((p) => (p.startsWith('{') && p.endsWith('}') ? p.slice(1, -1) : null));
  return (vars) => {
    let topic = '';
    for (let i = 0; i < parts.length; i++) {
      const name = names[i];
      topic += name === null ? parts[i] : (vars[name!] ?? parts[i]);
    }
    return topic;
  };
}

/** The MQTT filter covering every topic a template can produce: `weir/readings/{device}` -> `weir/readings/+`. */
export function templateFilter(template: string): string {
  return template
    .split('/')
    .map((level) => (level.includes('{') ? '+' : level))
    .join('/');
}

export function readingRepublisher(
  publish: Publish,
  config: { topic: string; qos: 0 | 1; retain: boolean },
  metrics: Metrics,
): ReadingConsumer {
  const topicFor = topicTemplate(config.topic);
  const options = { qos: config.qos, retain: config.retain };
  const republished = metrics.republished.cell();
  return (readings: readonly ReadingRecord[]) => {
    for (const r of readings) publish(topicFor({ device: r.device, metric: r.metric }), JSON.stringify(r), options);
    republished.n += readings.length;
  };
}

export function deadLetterPublisher(publish: Publish, topic: string, metrics: Metrics): (bad: BadFrame) => void {
  const topicFor = topicTemplate(topic);
  return (bad) => {
    const body = {
      v: 1,
      kind: 'dead-letter',
      code: bad.code,
      reason: bad.message,
      source: bad.frame.source,
      address: bad.frame.address,
      device: bad.device,
      receivedAt: bad.frame.receivedAt,
      payloadBase64: bad.frame.payload.subarray(0, 4096).toString('base64'),
      payloadBytes: bad.frame.payload.length,
    };
    publish(topicFor({ reason: bad.code.toLowerCase().replace(/_/g, '-') }), JSON.stringify(body), { qos: 0, retain: false });
    metrics.deadLettered.inc();
  };
}
