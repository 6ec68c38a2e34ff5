#!/usr/bin/env -S node --max-semi-space-size=1
// The V8 flag caps the young generation at 1 MiB per semi-space (default 16):
// about 12 MB less idle RSS on a 1 GB board, at a small cost in scavenge count.
// Launchers that call `node bin/weir.js` directly pass the same flag.
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
