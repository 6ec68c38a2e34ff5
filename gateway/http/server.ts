/**
 * The operator's window: /healthz (alive), /readyz (every part started and
 * connected), /metrics (Prometheus), /api/status (JSON for tools and people).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from '../metrics/metrics.js';
import { WeirError } from '../core/errors.js';

export interface StatusProvider {
  ready(): { ready: boolean; reasons: string[] };
  status(): Record<string, unknown>;
  /** POST endpoints (e.g. `/api/rules/reload`); a result with `ok: false` answers 422. */
  readonly actions?: Readonly<Record<string, () => Promise<unknown>>>;
}

export interface HttpServer {
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

export async function startHttpServer(host: string, port: number, metrics: Metrics, provider: StatusProvider): Promise<HttpServer> {
  const server = http.createServer((req, res) => {
    handle(req, res, metrics, provider).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`internal error: ${(error as Error).message}\n`);
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new WeirError('LISTEN_FAILED', `cannot listen for HTTP on ${host}:${port}: ${e.message}`, { cause: e })));
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    port: address.port,
    host: address.address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse, metrics: Metrics, provider: StatusProvider): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const action = provider.actions?.[path];
  if (action) {
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
    req.resume(); // the body carries nothing we need
    const result = await action();
    const failed = typeof result === 'object' && result !== null && (result as { ok?: unknown }).ok === false;
    return json(res, failed ? 422 : 200, result);
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  switch (path) {
    case '/healthz':
      return json(res, 200, { status: 'ok' });
    case '/readyz': {
      const r = provider.ready();
      return json(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', reasons: r.reasons });
    }
    case '/metrics': {
      const body = await metrics.registry.metrics();
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body);
      return;
    }
    case '/api/status':
      return json(res, 200, provider.status());
    default:
      return json(res, 404, { error: 'not found', paths: ['/healthz', '/readyz', '/metrics', '/api/status'] });
  }
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body, null, 2)}\n`);
}
