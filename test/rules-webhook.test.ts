import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWebhookAction } from '../rules/webhook.js';
import { buildActions } from '../rules/actions.js';
import type { AlertRecord } from '../gateway/core/records.js';
import type { WebhookActionSpec } from '../rules/schema-common.js';
import { rulesFrom } from './rules-helpers.js';

const alert: AlertRecord = {
  v: 1, kind: 'alert', id: 'gw-1-42', rule: 'hot', key: 'd1', device: 'd1', state: 'raise', severity: 'critical',
  message: 'd1 at 91', ts: 1_700_000_000_000, value: 91, evidence: [{ ts: 1_700_000_000_000, value: 91 }], tags: {},
};

interface Received {
  readonly method: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A real HTTP server on an ephemeral port answering with the given statuses in turn. */
async function receiver(statuses: (number | 'hang')[], headers: Record<string, string> = {}): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ method: req.method ?? '', headers: req.headers, body });
      const status = statuses[Math.min(received.length - 1, statuses.length - 1)]!;
      if (status === 'hang') return; // never answers: the client must time out
      res.writeHead(status, headers).end('ok');
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/hook`, received };
}

const spec = (url: string, over: Partial<WebhookActionSpec> = {}): WebhookActionSpec => ({
  kind: 'webhook', url, timeout: '2s', attempts: 4, backoff: '10ms', maxBackoff: '50ms', ...over,
});

describe('webhook action', () => {
  it('POSTs the alert record as JSON with an idempotency key and custom headers', async () => {
    const { url, received } = await receiver([204]);
    const action = createWebhookAction(spec(url, { headers: { authorization: 'Bearer t0k' } }));
    expect(await action.run(alert)).toEqual({ ok: true, attempts: 1 });
    expect(received).toHaveLength(1);
    expect(received[0]!.method).toBe('POST');
    expect(received[0]!.headers['content-type']).toBe('application/json');
    expect(received[0]!.headers['idempotency-key']).toBe('gw-1-42');
    expect(received[0]!.headers['authorization']).toBe('Bearer t0k');
    expect(JSON.parse(received[0]!.body)).toEqual(alert);
  });

  it('retries 5xx and 429 with growing delays, then succeeds', async () => {
    const { url, received } = await receiver([503, 429, 200]);
    const delays: number[] = [];
    const action = createWebhookAction(spec(url), {
      random: () => 1,
      sleep: async (ms) => void delays.push(ms),
    });
    expect(await action.run(alert)).toEqual({ ok: true, attempts: 3 });
    expect(received).toHaveLength(3);
    expect(delays).toEqual([10, 20]);
  });

  it('honours Retry-After within the cap', async () => {
    const { url } = await receiver([429, 200], { 'retry-after': '1' });
    const delays: number[] = [];
    const action = createWebhookAction(spec(url, { maxBackoff: '500ms' }), { random: () => 0, sleep: async (ms) => void delays.push(ms) });
    expect(await action.run(alert)).toEqual({ ok: true, attempts: 2 });
    expect(delays).toEqual([500]);
  });

  it('does not retry a 4xx that retrying cannot fix', async () => {
    const { url, received } = await receiver([400]);
    const action = createWebhookAction(spec(url));
    expect(await action.run(alert)).toEqual({ ok: false, attempts: 1, retriable: false, reason: 'HTTP 400' });
    expect(received).toHaveLength(1);
  });

  it('gives up after the last attempt, retriable, with the last reason', async () => {
    const { url, received } = await receiver([500]);
    const action = createWebhookAction(spec(url, { attempts: 3 }));
    expect(await action.run(alert)).toEqual({ ok: false, attempts: 3, retriable: true, reason: 'HTTP 500' });
    expect(received).toHaveLength(3);
  });

  it('times out a receiver that never answers and retries', async () => {
    const { url, received } = await receiver(['hang', 200]);
    const action = createWebhookAction(spec(url, { timeout: '100ms' }));
    expect(await action.run(alert)).toEqual({ ok: true, attempts: 2 });
    expect(received).toHaveLength(2);
  });

  it('retries when nothing listens (connection refused)', async () => {
    const { url } = await receiver([200]);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const action = createWebhookAction(spec(url, { attempts: 2 }));
    const out = await action.run(alert);
    expect(out).toMatchObject({ ok: false, attempts: 2, retriable: true });
    expect(out.ok ? '' : out.reason).toMatch(/ECONNREFUSED|fetch failed/);
  });

  it('stops retrying when aborted', async () => {
    const { url } = await receiver([500]);
    const ctl = new AbortController();
    const action = createWebhookAction(spec(url, { attempts: 10, backoff: '1s', maxBackoff: '1s' }));
    const run = action.run(alert, ctl.signal);
    setTimeout(() => ctl.abort(), 50);
    expect(await run).toMatchObject({ ok: false, retriable: true, reason: 'aborted' });
  });

  it('runs only for the transitions it is configured for', () => {
    const action = createWebhookAction(spec('http://127.0.0.1:1/', { on: ['raise'] }));
    expect(action.accepts(alert)).toBe(true);
    expect(action.accepts({ ...alert, state: 'clear' })).toBe(false);
  });
});

describe('buildActions', () => {
  it('builds actions per rule from the rule file, with schema defaults, and names kinds nobody provides', () => {
    const rules = rulesFrom(`
rules:
  - id: hot
    kind: threshold
    metric: m
    when: value > 1
    actions:
      - { kind: webhook, url: "http://127.0.0.1:9/hook" }
      - { kind: mqtt }
      - { kind: actuator, name: fan, onRaise: true, onClear: false }
`);
    expect(rules[0]!.actions[0]).toEqual({ kind: 'webhook', url: 'http://127.0.0.1:9/hook', timeout: '5s', attempts: 5, backoff: '500ms', maxBackoff: '30s' });
    const { actions, missing } = buildActions(rules, { webhook: (s) => createWebhookAction(s) });
    expect(actions.get('hot')!.map((a) => a.kind)).toEqual(['webhook']);
    expect(missing).toEqual(['hot: no mqtt action available', 'hot: no actuator action available']);
  });
});
