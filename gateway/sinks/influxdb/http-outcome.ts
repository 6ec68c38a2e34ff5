/**
 * An InfluxDB write response as a delivery outcome. The rule from the issue:
 * 2xx delivered; 408, 429 and 5xx retried (honouring Retry-After); other 4xx
 * rejected with the server's message, so the batch goes to the dead-letter file.
 *
 * One deliberate exception: 401, 403 and 404 are retried. InfluxDB answers them
 * for a revoked token or a missing org/bucket, which is a fault of the setup,
 * not of the batch; rejecting would send every record to the dead-letter file
 * until someone fixes the token. Retried, they wait in the durable buffer
 * with the circuit open and the server's message in /api/status.
 */
import type { DeliveryOutcome } from '../../core/contracts.js';
import { parseRetryAfter } from '../../forward/retry-after.js';

const RETRIED_4XX = new Set([401, 403, 404, 408, 429]);
const MAX_MESSAGE = 500;

export function classifyWrite(status: number, retryAfter: string | null, body: string, now: number): DeliveryOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  const reason = `HTTP ${status}: ${serverMessage(body) || '(no message)'}`;
  if (status >= 500 || RETRIED_4XX.has(status)) {
    const afterMs = parseRetryAfter(retryAfter, now);
    return afterMs === undefined ? { kind: 'retry', reason } : { kind: 'retry', reason, afterMs };
  }
  return { kind: 'rejected', reason };
}

/** InfluxDB v2 errors are JSON `{code, message}`; anything else is shown as text. */
function serverMessage(body: string): string {
  let text = body.trim();
  try {
    const parsed = JSON.parse(text) as { message?: unknown; error?: unknown };
    const m = parsed.message ?? parsed.error;
    if (typeof m === 'string') text = m;
  } catch {
    // not JSON: keep the text
  }
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}
