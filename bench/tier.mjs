// The `tier` phase of `npm run bench` (bench/run.mjs, BENCH_SCENARIOS group `tier`): a hit served from
// the process's memory, by cachette's in-process tier in front of Redis and by bentocache's L1 in front
// of its Redis L2 (both coherent across processes: cachette through client tracking, bentocache through
// its Redis bus), beside the in-process references p-memoize and lru-cache (no Redis at all). Same
// workload as the other hit scenarios: 1,000 stored keys, a ~200-byte user record, sequentially and at
// 64 in flight; every key is read once before timing, so each timed call is a hit from memory.
// Ratios are to p-memoize, per round, as the main scenarios are to the raw client.
import { cached, createCache } from 'cachette';
import { LRUCache } from 'lru-cache';

export const TIER_SCENARIOS = [
  { id: 'tier-hit-seq', concurrency: 1 },
  { id: 'tier-hit-64', concurrency: 64 },
];

/** Optional peers: undefined when the package is not installed (they are devDependencies). */
async function optional(name) {
  try {
    return await import(name);
  } catch {
    return undefined;
  }
}

/**
 * Build the contestants on the standalone server at `port`, time each scenario with `pairedRounds`
 * (run.mjs: warm-up, then mirrored rotated rounds), and return the rows.
 * `origin(i)` and `hotKeys`, `ttlMs` are the bench's own.
 */
export async function measureTier({ port, scenarios, pairedRounds, pairedRatio, origin, hotKeys, ttlMs }) {
  const contenders = [];
  const closers = [];
  const checks = {};

  // cachette: the tier in front of Redis, in its default value mode, with a copy per hit, and with a
  // per-call ttl on every hit (a sliding TTL: each tier hit extends the entry in Redis in the background).
  for (const [id, title, l1, callOptions] of [
    ['cachette-tier', 'cachette tier', { maxEntries: 10_000 }, undefined],
    ['cachette-tier-copied', "cachette tier, values: 'copied'", { maxEntries: 10_000, values: 'copied' }, undefined],
    ['cachette-tier-ttl', 'cachette tier, per-call ttl on every hit', { maxEntries: 10_000 }, { ttl: ttlMs }],
  ]) {
    let cache;
    try {
      cache = createCache({ store: { type: 'redis', host: '127.0.0.1', port }, namespace: `bench-${id}`, l1 });
    } catch (error) {
      process.stdout.write(`${id}: skipped (${error.message})\n`);
      continue;
    }
    const getUser = cached(origin, { cache, name: 'user', ttl: ttlMs });
    const op = callOptions === undefined ? (i) => getUser(i % hotKeys) : (i) => getUser(i % hotKeys, callOptions);
    contenders.push({ id, title, op, seed: () => Promise.all(Array.from({ length: hotKeys }, (_, i) => getUser(i))) });
    closers.push(() => cache.close());
    checks[id] = () => ({ ...getUser.stats });
  }

  // bentocache 1.x: memory L1 + Redis L2 + Redis bus, as its docs set up a multi-tier cache.
  const bento = await optional('bentocache');
  const bentoMemory = await optional('bentocache/drivers/memory');
  const bentoRedis = await optional('bentocache/drivers/redis');
  if (bento && bentoMemory && bentoRedis) {
    for (const [id, title, serialize] of [
      ['bentocache', 'bentocache L1+L2', true],
      ['bentocache-shared', 'bentocache L1+L2, L1 serialize: false', false],
    ]) {
      const connection = { host: '127.0.0.1', port };
      const cache = new bento.BentoCache({
        default: 'tiered',
        stores: {
          tiered: bento
            .bentostore()
            .useL1Layer(bentoMemory.memoryDriver({ maxItems: 10_000, serialize }))
            .useL2Layer(bentoRedis.redisDriver({ connection }))
            .useBus(bentoRedis.redisBusDriver({ connection })),
        },
      });
      const ns = cache.namespace(id);
      const getUser = (i) => ns.getOrSet({ key: `user:${i}`, factory: () => origin(i), ttl: ttlMs });
      contenders.push({ id, title, op: (i) => getUser(i % hotKeys), seed: () => Promise.all(Array.from({ length: hotKeys }, (_, i) => getUser(i))) });
      closers.push(() => cache.disconnect());
    }
  }

  // References without Redis: p-memoize (a Map of results) and an async function over an LRUCache.
  const pMemoize = await optional('p-memoize');
  if (pMemoize) {
    const getUser = pMemoize.default(origin);
    contenders.push({ id: 'p-memoize', title: 'p-memoize', op: (i) => getUser(i % hotKeys), seed: () => Promise.all(Array.from({ length: hotKeys }, (_, i) => getUser(i))) });
  }
  const lru = new LRUCache({ max: 10_000 });
  const lruUser = async (i) => {
    let value = lru.get(i);
    if (value === undefined) {
      value = await origin(i);
      lru.set(i, value);
    }
    return value;
  };
  contenders.push({ id: 'lru-cache', title: 'lru-cache (async function over an LRUCache)', op: (i) => lruUser(i % hotKeys), seed: () => Promise.all(Array.from({ length: hotKeys }, (_, i) => lruUser(i))) });

  try {
    for (const c of contenders) await c.seed();
    const rows = [];
    for (const scenario of scenarios) {
      process.stdout.write(`${scenario.id}:`);
      const out = await pairedRounds(contenders, 'hit', scenario.concurrency);
      process.stdout.write('\n');
      const reference = out['p-memoize'];
      const row = { ...scenario, contestants: {} };
      for (const c of contenders) {
        row.contestants[c.id] = {
          title: c.title,
          medianOps: out[c.id].medianOps,
          cpuMicrosPerOp: out[c.id].cpuMicrosPerOp,
          perRound: out[c.id].perRound,
          ratioToPMemoize: reference ? pairedRatio(out[c.id], reference) : undefined,
          roundRatios: reference ? out[c.id].perRound.map((v, r) => v / reference.perRound[r]) : undefined,
        };
      }
      rows.push(row);
    }
    const stats = Object.fromEntries(Object.entries(checks).map(([id, check]) => [id, check()]));
    return { rows, stats, contenders: contenders.map((c) => ({ id: c.id, title: c.title })) };
  } finally {
    for (const close of closers) await close();
  }
}

const ops = (n) => Math.round(n).toLocaleString('en-US');

/** The tier phase as markdown. */
export function renderTier(tier) {
  const lines = [
    'Hit from process memory (`tier` group): cachette\'s tier in front of Redis and bentocache\'s L1 in front of its Redis L2, beside p-memoize and lru-cache (no Redis). ops/s: median over rounds; ratio: median of the per-round ratios to p-memoize.',
    '',
    '| contestant | in flight | ops/s | / p-memoize | rounds (min–max) | CPU µs per call |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const row of tier.rows) {
    for (const { id, title } of tier.contenders) {
      const c = row.contestants[id];
      const ratio = c.ratioToPMemoize === undefined ? 'n/a' : `${c.ratioToPMemoize.toFixed(2)}×`;
      const spread = c.roundRatios === undefined ? 'n/a' : `${Math.min(...c.roundRatios).toFixed(2)}–${Math.max(...c.roundRatios).toFixed(2)}×`;
      lines.push(`| ${title} | ${row.concurrency} | ${ops(c.medianOps)} | ${ratio} | ${spread} | ${c.cpuMicrosPerOp.toFixed(2)} |`);
    }
  }
  const stats = Object.entries(tier.stats)
    .map(([id, s]) => `${id}: ${s.hits} hits (${s.l1Hits ?? 'no'} from the tier), ${s.misses} misses, ${s.errors} errors`)
    .join('; ');
  lines.push('', `cachette stats over the phase: ${stats}`);
  return lines.join('\n');
}
