// Micro-benchmark of key building alone: encodeArgs of two builds of lib/keys.ts, interleaved in one
// process, so the figures compare like with like. A few seconds on 2 cores.
//
//   node bench/encode-args.mjs <before/keys.js> [<after/keys.js>]
//
// Build a keys.js with `npx tsc lib/keys.ts --outDir <dir> --module es2022 --moduleResolution bundler --target es2022`
// plus a `{"type":"module"}` package.json in <dir>
// (or use dist/esm/keys.js after `npm run build`). Prints ns per encodeArgs call, median of the rounds.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const paths = process.argv.slice(2);
if (paths.length === 0) {
  console.error('usage: node bench/encode-args.mjs <keys.js> [<keys.js>]');
  process.exit(2);
}
const builds = await Promise.all(paths.map(async (path) => ({ path, mod: await import(pathToFileURL(resolve(path)).href) })));

const ids = Array.from({ length: 1000 }, (_, i) => i);
const workloads = {
  'word (user-123)': ids.map((i) => [`user-${i}`]),
  'quoted (a@b.com)': ids.map((i) => [`user${i}@example.com`]),
  'number (42)': ids.map((i) => [i]),
  'number, word': ids.map((i) => [i, 'en-GB']),
  'object {id,region}': ids.map((i) => [{ region: 'eu', id: i }]),
};

const ROUNDS = 7;
const CALLS = 200_000;
let sink = 0;

function measure(encodeArgs, tuples) {
  const start = process.hrtime.bigint();
  for (let n = 0; n < CALLS; n++) sink += encodeArgs(tuples[n % tuples.length]).length;
  return Number(process.hrtime.bigint() - start) / CALLS;
}

const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];

const rows = [];
for (const [name, tuples] of Object.entries(workloads)) {
  for (const { mod } of builds) measure(mod.encodeArgs, tuples); // warm up
  const times = builds.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    builds.forEach(({ mod }, b) => times[b].push(measure(mod.encodeArgs, tuples)));
  }
  rows.push([name, ...times.map((t) => `${median(t).toFixed(1)} ns (${Math.min(...t).toFixed(1)}–${Math.max(...t).toFixed(1)})`)]);
}
console.log(`| workload | ${builds.map((b) => b.path).join(' | ')} |`);
console.log(`| --- |${builds.map(() => ' --- |').join('')}`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
if (sink === 0) console.log('');
