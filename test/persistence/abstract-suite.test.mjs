// The aedes-persistence spec, run against weir's broker store. Needs the compiled output:
//   npx tsc -p tsconfig.json && node --test test/persistence/
import test, { after } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { openBrokerPersistence } from '../../dist/gateway/broker/persistence.js';

const require = createRequire(import.meta.url);
const abstractPersistence = require('aedes-persistence/abstract.js');

const dirs = [];

after(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

abstractPersistence({
  test,
  testAsync: true,
  async persistence() {
    const dir = await mkdtemp(join(tmpdir(), 'weir-abstract-'));
    dirs.push(dir);
    // The cap sits above the 32-entry queue the suite builds, so the suite checks the store and the
    // wrapper together without a drop changing what it expects.
    return openBrokerPersistence({ dir, maxQueuedPerClient: 1000 });
  },
});
