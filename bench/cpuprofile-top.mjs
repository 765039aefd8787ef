// Summarise a V8 .cpuprofile (from `node --cpu-prof`): self time by file group, then the functions
// with the most self time. Used for the "why" analysis in docs/benchmarks.md.
// Usage: node bench/cpuprofile-top.mjs <file.cpuprofile> [rows=25]
import { readFileSync } from 'node:fs';

const [file, rowsText] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/cpuprofile-top.mjs <file.cpuprofile> [rows]');
  process.exit(2);
}
const rows = Number(rowsText) || 25;
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfSamples = new Map();
for (const id of profile.samples) selfSamples.set(id, (selfSamples.get(id) ?? 0) + 1);
const total = profile.samples.length;
const seconds = (profile.endTime - profile.startTime) / 1e6;

/** A short location: `dist/esm/engine.js:21`, `@redis/client/…/index.js:820`, `node:internal/…`. */
function shortUrl(url) {
  return url.replace(/^file:\/\/.*\/node_modules\//, '').replace(/^file:\/\/.*?\/(dist|bench)\//, '$1/');
}

function group(url, name) {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const short = shortUrl(url);
  if (short.startsWith('dist/')) return 'cachette (dist/)';
  if (short.startsWith('bench/')) return 'benchmark loop (bench/)';
  if (short.startsWith('node:')) return 'node internals';
  if (short.startsWith('@redis/') || short.startsWith('redis/')) return 'node-redis';
  return short.split('/')[0];
}

const byFunction = new Map();
const byGroup = new Map();
for (const [id, count] of selfSamples) {
  const { callFrame } = byId.get(id);
  const fn = callFrame.functionName || '(anonymous)';
  const where = callFrame.url ? `${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}` : '';
  const name = `${fn} ${where}`.trim();
  byFunction.set(name, (byFunction.get(name) ?? 0) + count);
  const g = group(callFrame.url, fn);
  byGroup.set(g, (byGroup.get(g) ?? 0) + count);
}

const pct = (count) => `${((count / total) * 100).toFixed(1).padStart(5)}%`;
console.log(`${total} samples over ${seconds.toFixed(1)} s`);
console.log('\nself time by group:');
for (const [name, count] of [...byGroup].sort((a, b) => b[1] - a[1])) console.log(`${pct(count)}  ${name}`);
console.log(`\ntop ${rows} functions by self time:`);
for (const [name, count] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(`${pct(count)}  ${name}`);
