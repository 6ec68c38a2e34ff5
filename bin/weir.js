#!/usr/bin/env node
// No V8 flags: a young generation capped small (--max-semi-space-size=1) saves
// ~10 MB in the first seconds after start, but halves ingest throughput (every
// in-flight message is copied by ever more frequent scavenges); V8 returns that
// memory by itself once the gateway is at rest (BENCHMARKS.md, "Memory").
// The installed entry point: runs the compiled CLI (npm run build writes dist/).
import { buildCli } from '../dist/gateway/cli/main.js';

const program = buildCli((code) => {
  process.exitCode = code;
  // a lingering handle (a closing socket, a log transport) must not keep a finished command alive
  setTimeout(() => process.exit(code), 500).unref();
});
program.exitOverride((err) => {
  process.exit(err.exitCode);
});
await program.parseAsync(process.argv);
