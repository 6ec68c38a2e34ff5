/**
 * Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. A value past
 * an hour is clamped, so one odd header cannot park a sink for days.
 */
const MAX_RETRY_AFTER_MS = 3_600_000;

export function parseRetryAfter(header: string | null | undefined, now: number): number | undefined {
  if (!header) return undefined;
  const text = header.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}
