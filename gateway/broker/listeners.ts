/**
 * TCP, TLS and WebSocket listeners for the embedded broker. Every accepted
 * socket gets TCP_NODELAY (Nagle adds 20-60 ms to QoS 0 latency here), the
 * shared connection cap, and the packet-size guard before aedes sees a byte.
 */
import net, { type AddressInfo, type Socket } from 'node:net';
import type { TlsOptions } from 'node:tls';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { WeirError } from '../core/errors.js';
import { guardPacketSize } from './packet-size-guard.js';
import { coalesceWrites } from './write-coalescing.js';
import { rememberRemoteAddress } from './client-identity.js';
import type { WeirConfig } from '../config/schema.js';

type Listeners = WeirConfig['broker']['listeners'];
export type ListenerName = 'tcp' | 'tls' | 'ws';

export interface ListenerHooks {
  /** Hands a ready stream to aedes. */
  readonly handle: (stream: Duplex, listener: ListenerName) => void;
  readonly maxConnections: number;
  readonly maxPacketSize: number;
  readonly onLimit: (limit: 'connections' | 'packet-size', detail: Record<string, unknown>) => void;
}

export interface OpenListener {
  readonly name: ListenerName;
  readonly address: AddressInfo;
  close(): Promise<void>;
}

export async function openListeners(config: Listeners, baseDir: string, hooks: ListenerHooks): Promise<OpenListener[]> {
  const open: OpenListener[] = [];
  let connections = 0;

  /** Admits a socket or closes it; returns false when refused. */
  const admit = (socket: Socket, stream: Duplex, listener: ListenerName): boolean => {
    if (connections >= hooks.maxConnections) {
      hooks.onLimit('connections', { remoteAddress: socket.remoteAddress, listener });
      socket.destroy();
      return false;
    }
    connections++;
    socket.once('close', () => connections--);
    socket.setNoDelay(true);
    rememberRemoteAddress(stream, socket.remoteAddress);
    guardPacketSize(stream, hooks.maxPacketSize, (size) =>
      hooks.onLimit('packet-size', { remoteAddress: socket.remoteAddress, listener, size }),
    );
    coalesceWrites(stream);
    hooks.handle(stream, listener);
    return true;
  };

  try {
    if (config.tcp.enabled) {
      const server = net.createServer((socket) => admit(socket, socket, 'tcp'));
      open.push(await listen('tcp', server, config.tcp.host, config.tcp.port));
    }
    if (config.tls.enabled) {
      const tls = await import('node:tls'); // only when enabled: OpenSSL's TLS state costs memory
      const server = tls.createServer(tlsOptions(config.tls, baseDir), (socket) => admit(socket, socket, 'tls'));
      open.push(await listen('tls', server, config.tls.host, config.tls.port));
    }
    if (config.ws.enabled) {
      // loaded only when enabled: ws costs ~15 MB of RSS on a board that may not need it
      const { WebSocketServer, createWebSocketStream } = await import('ws');
      const server = http.createServer((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket only\n'));
      const wss = new WebSocketServer({
        server,
        path: config.ws.path,
        // MQTT over WebSocket names its subprotocol "mqtt" [MQTT-6.0.0-3]
        handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false),
      });
      wss.on('connection', (ws, req) => {
        const stream = createWebSocketStream(ws);
        stream.on('error', () => ws.terminate());
        admit(req.socket, stream, 'ws');
      });
      const l = await listen('ws', server, config.ws.host, config.ws.port);
      open.push({ ...l, close: async () => (wss.close(), l.close()) });
    }
  } catch (error) {
    await Promise.all(open.map((l) => l.close()));
    throw error;
  }
  return open;
}

function tlsOptions(config: Listeners['tls'], baseDir: string): TlsOptions {
  const read = (file: string | undefined) => {
    if (!file) return undefined;
    try {
      return readFileSync(resolve(baseDir, file));
    } catch (e) {
      throw new WeirError('TLS_FILES_UNREADABLE', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
    }
  };
  const ca = read(config.ca);
  return {
    cert: read(config.cert),
    key: read(config.key),
    ...(ca ? { ca } : {}),
    requestCert: config.requireClientCert,
    rejectUnauthorized: config.requireClientCert,
  };
}

function listen(name: ListenerName, server: net.Server, host: string, port: number): Promise<OpenListener> {
  return new Promise((resolve, reject) => {
    const sockets = new Set<Socket>();
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    server.once('error', (e) =>
      reject(new WeirError('LISTEN_FAILED', `cannot listen for MQTT over ${name} on ${host}:${port}: ${e.message}`, { cause: e })),
    );
    server.listen(port, host, () => {
      resolve({
        name,
        address: server.address() as AddressInfo,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const s of sockets) s.destroy();
          }),
      });
    });
  });
}
