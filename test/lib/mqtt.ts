/** Small helpers around real MQTT.js clients for tests: connect, collect, wait. */
import { connect, connectAsync, type IClientOptions, type MqttClient } from 'mqtt';

export async function client(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
}

export interface Received {
  readonly topic: string;
  readonly payload: Buffer;
  readonly retain: boolean;
  readonly qos: number;
}

/** Subscribes and records every message; `next(n)` waits until n have arrived. */
export async function collector(c: MqttClient, filter: string | string[], qos: 0 | 1 | 2 = 0) {
  const messages: Received[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  c.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload, retain: packet.retain, qos: packet.qos });
    for (const w of [...waiters]) if (messages.length >= w.n) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
  });
  const granted = await c.subscribeAsync(filter, { qos });
  return {
    messages,
    granted,
    next(n: number, timeoutMs = 5000): Promise<Received[]> {
      if (messages.length >= n) return Promise.resolve(messages.slice(0, n));
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`got ${messages.length} of ${n} messages in ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ n, resolve: () => (clearTimeout(t), resolve(messages.slice(0, n))) });
      });
    },
    json: () => messages.map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns true (for effects with no event to wait on). `what` may be a function, to say what was seen when it times out. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what: string | (() => string) = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
}

export async function metricValue(httpUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (want.every((w) => (m[2] ?? '').includes(w))) sum += Number(m[3]);
  }
  return sum;
}

/** True if a client gets a CONNACK; false if the broker closes the socket first. */
export function tryConnect(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(url, { reconnectPeriod: 0, connectTimeout: 3000 });
    let connected = false;
    c.once('connect', () => ((connected = true), c.end(true)));
    c.once('close', () => (c.end(true), resolve(connected)));
  });
}
