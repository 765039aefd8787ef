// Micro-benchmark of cachette's own work per hit, without Redis and node-redis: each build's cached
// function over an in-process store that answers with a resolved Promise (a Map of the encoded
// entries), 64 calls in flight, the builds interleaved in one process. A few seconds per 10 rounds.
//
//   node bench/hit-cpu.mjs <dist/esm/index.js> [<other/dist/esm/index.js> …]
//
// Prints the CPU time of the process per hit (user + system, so GC threads count), median of the
// rounds. For a change to the hit path: build each checkout (`npm run build`) and pass both.
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const paths = process.argv.slice(2);
if (paths.length === 0) {
  console.error('usage: node bench/hit-cpu.mjs <dist/esm/index.js> [<dist/esm/index.js> …]');
  process.exit(2);
}
const ROUNDS = Number(process.env.ROUNDS ?? 15);
const HOT_KEYS = 1000;
const PAD = 'x'.repeat(64);

/** The bench's ~200-byte user record. */
function makeUser(id) {
  return { id, name: `User ${id}`, email: `user${id}@example.com`, plan: id % 3 === 0 ? 'premium' : 'basic', active: true, roles: ['reader', 'editor'], createdAt: '2024-01-15T10:30:00.000Z', bio: PAD };
}

async function origin(id) {
  return makeUser(id);
}

/** A string store on a Map: every answer is a resolved Promise, as a network store's would be. */
function mapStore() {
  const map = new Map();
  return {
    name: 'map',
    get: (key) => Promise.resolve(map.get(key)),
    set: (key, value) => {
      map.set(key, value);
      return Promise.resolve();
    },
    delete: (key) => Promise.resolve(map.delete(key)),
    getMany: (keys) => Promise.resolve(keys.map((key) => map.get(key))),
    setIfAbsent: (key, value) => {
      if (map.has(key)) return Promise.resolve(false);
      map.set(key, value);
      return Promise.resolve(true);
    },
  };
}

const builds = [];
for (const [index, path] of paths.entries()) {
  const { cached, createCache } = await import(pathToFileURL(resolve(path)).href);
  const cache = createCache({ store: mapStore(), namespace: `b${index}` });
  const fn = cached(origin, { cache, name: 'user', ttl: 600_000 });
  for (let i = 0; i < HOT_KEYS; i++) await fn(i);
  builds.push({ path, fn, cpu: [] });
}

async function measure(fn, ms) {
  let done = 0;
  let next = 0;
  const end = performance.now() + ms;
  const before = process.cpuUsage();
  const worker = async () => {
    while (performance.now() < end) {
      await fn(next++ % HOT_KEYS);
      done++;
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / done;
}

for (const b of builds) await measure(b.fn, 300);
for (let r = 0; r < ROUNDS; r++) {
  const shift = r % builds.length;
  const order = [...builds.slice(shift), ...builds.slice(0, shift)];
  for (const b of [...order, ...[...order].reverse()]) b.cpu.push(await measure(b.fn, 150));
}
const median = (values) => {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
for (const b of builds) {
  console.log(`${median(b.cpu).toFixed(3)} µs CPU per hit (median of ${b.cpu.length} half-rounds; ${b.fn.stats.hits} hits, ${b.fn.stats.misses} misses, ${b.fn.stats.errors} errors)  ${b.path}`);
}
