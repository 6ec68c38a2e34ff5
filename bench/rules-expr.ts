/**
 * The expression language choice, measured: @marcbachmann/cel-js (interpreted
 * AST) against filtrex (compiles to a JavaScript function with `new Function`),
 * on the conditions rules actually have, over the same seeded readings.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/rules-expr.js
 */
import { compileExpression } from 'filtrex';
import { compileCondition, READING_VARIABLES } from '../rules/expr.js';
import { mulberry32 as rng } from '../firmware-sim/random.js';

const CASES: readonly { name: string; cel: string; filtrex: string }[] = [
  { name: 'value > 80', cel: 'value > 80.0', filtrex: 'value > 80' },
  { name: 'band + tag', cel: 'value > 40.0 && value < 60.0 && tags.zone == "a"', filtrex: 'value > 40 and value < 60 and zone of tags == "a"' },
  { name: 'abs + in', cel: 'abs(value - 50.0) > 5.0 && device in ["d1", "d2", "d3"]', filtrex: 'abs(value - 50) > 5 and device in ("d1", "d2", "d3")' },
];


const random = rng(1);
const readings = Array.from({ length: 1000 }, (_, i) => ({
  value: Math.round(random() * 10000) / 100,
  metric: 'temp',
  device: `d${i % 10}`,
  tags: { zone: random() < 0.5 ? 'a' : 'b' },
  ts: 1_704_067_200_000 + i,
}));

function measure(fn: (r: object) => unknown, n: number): { perSecond: number; hits: number } {
  let hits = 0;
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) if (fn(readings[i % readings.length]!) === true) hits++;
  const c = process.cpuUsage(c0);
  return { perSecond: n / ((c.user + c.system) / 1e6), hits };
}

const N = Number(process.argv[2] ?? 2_000_000);
console.log(`conditions per CPU second, ${N.toLocaleString('en')} evaluations each (best of 3), node ${process.version}`);
console.log('condition        cel-js        filtrex      same results');
for (const c of CASES) {
  const compiled = compileCondition(c.cel, READING_VARIABLES);
  if (!compiled.ok) throw new Error(compiled.message);
  const cel = compiled.expression.run;
  const fx = compileExpression(c.filtrex) as (r: object) => unknown;
  const same = readings.every((r) => (cel(r) === true) === (fx(r) === true));
  const best = (f: (r: object) => unknown) => Math.max(...[0, 1, 2].map(() => measure(f, N).perSecond));
  const a = best(cel);
  const b = best(fx);
  console.log(`${c.name.padEnd(17)}${`${(a / 1e6).toFixed(1)}M`.padEnd(14)}${`${(b / 1e6).toFixed(1)}M`.padEnd(13)}${same}`);
}
