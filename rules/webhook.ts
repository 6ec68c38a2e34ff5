/**
 * The webhook action: POSTs the alert record as JSON. 2xx is delivered;
 * timeouts, network errors, 408, 429 and 5xx are retried with exponential
 * backoff and jitter (honouring Retry-After within the cap); other statuses
 * are rejected at once, since sending the same body again cannot fix them.
 * The alert id goes in Idempotency-Key so a receiver can drop duplicates.
 */
import type { AlertRecord } from '../gateway/core/records.js';
import { parseDuration } from '../gateway/core/units.js';
import type { WebhookActionSpec } from './schema-common.js';
import { acceptsState, type ActionOutcome, type AlertAction } from './actions.js';

export interface WebhookDeps {
  readonly fetch?: typeof fetch;
  /** Waits between attempts; tests pass a fast one. Rejects when the signal aborts. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random?: () => number;
}

type Attempt = { readonly kind: 'ok' } | { readonly kind: 'retry' | 'reject'; readonly reason: string; readonly retryAfterMs?: number };

export function createWebhookAction(spec: WebhookActionSpec, deps: WebhookDeps = {}): AlertAction {
  const doFetch = deps.fetch ?? fetch;
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  const timeoutMs = parseDuration(spec.timeout);
  const backoffMs = parseDuration(spec.backoff);
  const maxBackoffMs = parseDuration(spec.maxBackoff);

  const attempt = async (alert: AlertRecord, signal: AbortSignal | undefined): Promise<Attempt> => {
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const res = await doFetch(spec.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'weir-rules', 'idempotency-key': alert.id, ...spec.headers },
        body: JSON.stringify(alert),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      await res.body?.cancel(); // the response body is not needed; free the socket
      if (res.ok) return { kind: 'ok' };
      const reason = `HTTP ${res.status}`;
      if (res.status === 408 || res.status === 429 || res.status >= 500) {
        const after = retryAfter(res.headers.get('retry-after'));
        return after === undefined ? { kind: 'retry', reason } : { kind: 'retry', reason, retryAfterMs: after };
      }
      return { kind: 'reject', reason };
    } catch (e) {
      if (timeout.aborted && !signal?.aborted) return { kind: 'retry', reason: `timed out after ${timeoutMs} ms` };
      return { kind: 'retry', reason: e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e) };
    }
  };

  return {
    kind: 'webhook',
    accepts: (alert) => acceptsState(spec.on, alert),
    async run(alert, signal) {
      let last = '';
      for (let n = 1; n <= spec.attempts; n++) {
        if (signal?.aborted) return { ok: false, attempts: n - 1, retriable: true, reason: 'aborted' };
        const a = await attempt(alert, signal);
        if (a.kind === 'ok') return { ok: true, attempts: n };
        if (a.kind === 'reject') return { ok: false, attempts: n, retriable: false, reason: a.reason };
        last = a.reason;
        if (n === spec.attempts) break;
        const exp = Math.min(maxBackoffMs, backoffMs * 2 ** (n - 1));
        const delay = Math.min(maxBackoffMs, Math.max(exp * (0.5 + random() / 2), a.retryAfterMs ?? 0));
        try {
          await sleep(delay, signal);
        } catch {
          return { ok: false, attempts: n, retriable: true, reason: 'aborted' };
        }
      }
      return { ok: false, attempts: spec.attempts, retriable: true, reason: last } satisfies ActionOutcome;
    },
  };
}

function retryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
