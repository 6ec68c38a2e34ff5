#!/usr/bin/env node
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
