/**
 * Bare aedes for the ingest benchmark, with the settings weir gives its
 * embedded broker (limits, drain timeout, TCP_NODELAY) and none of weir's
 * hooks or ingestion. `--persistence level` adds the same LevelDB persistence
 * package weir builds on, to separate storage cost from ingestion cost.
 * Prints {"port":N} on stdout once listening on 127.0.0.1.
 */
import net from 'node:net';
import { parseArgs } from 'node:util';
import { ClassicLevel } from 'classic-level';
import AsyncLevelPersistence from 'aedes-persistence-level/asyncPersistence.js';
import { Aedes } from 'aedes';

const { values } = parseArgs({
  options: {
    persistence: { type: 'string', default: 'memory' },
    dir: { type: 'string' },
    port: { type: 'string', default: '0' },
  },
});

let store: AsyncLevelPersistence | undefined;
if (values.persistence === 'level') {
  if (!values.dir) throw new Error('--persistence level needs --dir');
  const db = new ClassicLevel<string, Buffer>(values.dir, { valueEncoding: 'buffer' });
  await db.open();
  store = new AsyncLevelPersistence(db);
}

const broker = await Aedes.createBroker({
  ...(store ? { persistence: store } : {}),
  id: 'bench-aedes',
  connectTimeout: 30_000,
  maxInflightInbound: 100,
  maxClientsIdLength: 128,
  drainTimeout: 30_000,
});
const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  broker.handle(socket);
});
server.listen(Number(values.port), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as net.AddressInfo).port })}\n`);
});

process.once('SIGTERM', () => {
  server.close();
  broker.close(() => {
    void (store?.destroy() ?? Promise.resolve()).finally(() => process.exit(0));
  });
});
