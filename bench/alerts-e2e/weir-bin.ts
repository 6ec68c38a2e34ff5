/**
 * bin/weir.js for this build: the same few lines, but it runs the CLI compiled
 * beside it, so the benchmark measures the rules code it was built with even
 * while dist/ belongs to another build. Started as
 * `node <build>/bench/alerts-e2e/weir-bin.js start --config ...`, with no Node
 * flags, as bin/weir.js.
 */
import { buildCli } from '../../gateway/cli/main.js';

const program = buildCli((code) => {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 500).unref();
});
program.exitOverride((err) => {
  process.exit(err.exitCode);
});
await program.parseAsync(process.argv);
