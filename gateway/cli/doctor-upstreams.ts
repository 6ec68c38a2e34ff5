/**
 * `weir doctor`'s upstream checks: reachable, and accepting the configured
 * credentials where that can be asked without sending data (MQTT CONNECT,
 * InfluxDB's bucket lookup). Kafka is checked for reachability only; its
 * SASL credentials are tried by the running gateway at its first delivery.
 */
import net from 'node:net';
import type { WeirConfig } from '../config/schema.js';
import type { Finding } from '../doctor/index.js';

const TIMEOUT_MS = 3000;

export async function probeUpstreams(config: WeirConfig): Promise<Finding[]> {
  const checks: Promise<Finding>[] = [];
  for (const sink of config.sinks) {
    const check = `upstream.${sink.name}`;
    if (sink.kind === 'kafka') for (const b of sink.brokers) checks.push(tcpFinding(check, `tcp://${b}`));
    else if (sink.kind === 'mqtt') checks.push(mqttFinding(check, sink.url, sink.username, sink.password));
    else checks.push(influxFinding(check, sink.url, sink.org, sink.bucket, sink.token));
  }
  for (const ext of config.ingest.external) checks.push(mqttFinding(`upstream.${ext.name}`, ext.url, ext.username, ext.password));
  return Promise.all(checks);
}

const unreachable = (check: string, where: string, why: string): Finding => ({
  check,
  status: 'warn',
  detail: `${where} unreachable (${why}); weir buffers until it is back`,
});

async function tcpFinding(check: string, url: string): Promise<Finding> {
  const { hostname, port } = new URL(url);
  const error = await canConnect(hostname, Number(port));
  return error ? unreachable(check, `${hostname}:${port}`, error) : { check, status: 'ok', detail: `${hostname}:${port} answers (SASL is tried at the first delivery)` };
}

async function mqttFinding(check: string, url: string, username?: string, password?: string): Promise<Finding> {
  const { connectAsync } = await import('mqtt');
  try {
    const client = await connectAsync(url, {
      reconnectPeriod: 0,
      connectTimeout: TIMEOUT_MS,
      clientId: `weir-doctor-${process.pid}`,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
    });
    await client.endAsync();
    return { check, status: 'ok', detail: `${url} accepted ${username ? `user ${username}` : 'an anonymous client'}` };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    // CONNACK 4 and 5: reachable, but these credentials are refused
    if (code === 4 || code === 5) return { check, status: 'fail', detail: `${url} refused the configured credentials (CONNACK ${code})` };
    return unreachable(check, url, (e as Error).message);
  }
}

async function influxFinding(check: string, url: string, org: string, bucket: string, token?: string): Promise<Finding> {
  const lookup = new URL('/api/v2/buckets', url);
  lookup.searchParams.set('org', org);
  lookup.searchParams.set('name', bucket);
  try {
    const res = await fetch(lookup, { headers: token ? { authorization: `Token ${token}` } : {}, signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (res.status === 401 || res.status === 403) return { check, status: 'fail', detail: `${url} refused the configured token (HTTP ${res.status})` };
    if (!res.ok) return { check, status: 'warn', detail: `${url} answered HTTP ${res.status} to a bucket lookup; writes may still work (some InfluxDB-compatible servers lack this API)` };
    return { check, status: 'ok', detail: `${url} accepted the token; bucket ${bucket} of ${org} looked up` };
  } catch (e) {
    return unreachable(check, url, (e as Error).message);
  }
}

function canConnect(host: string, port: number): Promise<string | undefined> {
  return new Promise((done) => {
    const socket = net.connect({ host, port, timeout: TIMEOUT_MS });
    socket.once('connect', () => (socket.destroy(), done(undefined)));
    socket.once('timeout', () => (socket.destroy(), done('timed out')));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}
