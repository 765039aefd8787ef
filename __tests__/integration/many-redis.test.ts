/**
 * `f.many()` on a real Redis, beyond the shared suite (run on every topology by
 * `helpers/topology-suite.ts`): one `MGET` per call (counted by the server's INFO commandstats),
 * sliding TTL with GETEX in one write, the writes of a batch, and fail-open.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createClient } from 'redis';
import { cached, createCache, type Cache } from '../../lib/index.js';
import { deferred } from '../helpers/deferred.js';
import { startRedis, waitUntil, type TestRedis } from '../helpers/redis-server.js';

let redis: TestRedis;
const opened: Cache[] = [];
const quiet = { warn() {}, error() {} };

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  await redis.admin.flushAll();
});
afterEach(async () => {
  for (const cache of opened.splice(0)) await cache.close();
});

function redisCache(options: { opTimeout?: number; breaker?: false } = {}): Cache {
  const { breaker, ...store } = options;
  const cache = createCache({ store: { type: 'redis', url: redis.url, ...store }, ...(breaker === undefined ? {} : { breaker }), logger: quiet });
  opened.push(cache);
  return cache;
}

/** Calls of each data command the server has executed since the last CONFIG RESETSTAT. */
async function executed(): Promise<Record<string, number>> {
  const stats = await redis.admin.info('commandstats');
  const calls: Record<string, number> = {};
  for (const match of stats.matchAll(/^cmdstat_(get|mget|getex|set|del|evalsha|eval):calls=(\d+)/gm)) calls[match[1] as string] = Number(match[2]);
  return calls;
}

/** Reads the server made from client sockets since the last CONFIG RESETSTAT (`INFO stats`). */
async function socketReads(): Promise<number> {
  const stats = await redis.admin.info('stats');
  return Number(/^total_reads_processed:(\d+)/m.exec(stats)?.[1]);
}

describe('f.many() round trips on Redis', () => {
  it('reads 100 items with exactly one MGET, hits and misses alike', async () => {
    const f = cached(async (id: number) => ({ id }), { cache: redisCache(), name: 'f', ttl: '1m' });
    const ids = Array.from({ length: 100 }, (_, i) => [i] as [number]);
    await f.many(ids.slice(0, 50));
    await redis.admin.configResetStat();
    const results = await f.many(ids);
    expect(results).toEqual(ids.map(([id]) => ({ id })));
    expect(await executed()).toEqual({ mget: 1, set: 50 });
    expect(f.stats).toMatchObject({ hits: 50, misses: 100 });
  });

  it('reads with one MGET through a client you pass in (its typed mGet)', async () => {
    const client = createClient({ url: redis.url });
    client.on('error', () => {});
    await client.connect();
    try {
      const cache = createCache({ store: { type: 'redis', client }, logger: quiet });
      opened.push(cache);
      const f = cached(async (id: number) => id, { cache, name: 'f', ttl: '1m' });
      await f.many([[1], [2]]);
      await redis.admin.configResetStat();
      expect(await f.many([[1], [2], [3]])).toEqual([1, 2, 3]);
      expect(await executed()).toEqual({ mget: 1, set: 1 });
      await cache.close();
    } finally {
      await client.close();
    }
  });

  it('extends hits with one GETEX per key, sent together in one socket write (one round trip)', async () => {
    const f = cached(async (id: number) => id, { cache: redisCache(), name: 'f', ttl: '1m' });
    const ids = Array.from({ length: 20 }, (_, i) => [i] as [number]);
    await f.many(ids);
    await redis.admin.configResetStat();
    expect(await f.many(ids, { ttl: '1h' })).toEqual(ids.map(([id]) => id));
    const reads = await socketReads();
    expect(await executed()).toEqual({ getex: 20 });
    // The RESETSTAT's reply, this INFO and the 20 GETEX: the GETEXs arrived in one read.
    expect(reads).toBeLessThanOrEqual(2);
    expect(await redis.admin.pTTL(f.keyFor(7))).toBeGreaterThan(60_000);
  });

  it('issues the writes of a batch together: one read for the MGET, one for all the SETs', async () => {
    const f = cached(async (id: number) => id, { cache: redisCache(), name: 'f', ttl: '1m', batch: async (argsList) => argsList.map(([id]) => id) });
    await f(0); // connected
    await redis.admin.configResetStat();
    expect(await f.many(Array.from({ length: 20 }, (_, i) => [i + 1] as [number]))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const reads = await socketReads();
    expect(await executed()).toEqual({ mget: 1, set: 20 });
    expect(reads).toBeLessThanOrEqual(3);
  });
});

describe('f.many() when Redis fails', () => {
  it('answers every item from the origin while Redis is down, and hits again once it is back', async () => {
    const cache = redisCache({ breaker: false });
    let runs = 0;
    const f = cached(async (id: number) => ({ id, run: ++runs }), { cache, name: 'f', ttl: '1m' });
    await f.many([[1], [2]]);
    await redis.kill();
    try {
      expect(await f.many([[1], [2], [3]])).toEqual([
        { id: 1, run: 3 },
        { id: 2, run: 4 },
        { id: 3, run: 5 },
      ]);
      expect(f.stats).toMatchObject({ misses: 2 + 3, hits: 0 });
      expect(f.stats.errors).toBeGreaterThanOrEqual(3);
    } finally {
      await redis.start();
    }
  }, 20_000);

  it('skips the read of every item while the breaker is open, counting each', async () => {
    const cache = redisCache({ opTimeout: 100 });
    const f = cached(async (id: number) => id, { cache, name: 'f', ttl: '1m' });
    await f(0);
    redis.freeze();
    try {
      for (let i = 0; i < 6 && cache.health().state !== 'open'; i++) await f(100 + i);
      expect(cache.health().state).toBe('open');
      const before = { ...f.stats };
      expect(await f.many([[1], [2], [3]])).toEqual([1, 2, 3]);
      // 3 reads and 3 writes skipped, nothing sent, nothing counted as an error.
      expect(f.stats.skipped - before.skipped).toBe(6);
      expect(f.stats.errors).toBe(before.errors);
      expect(f.stats.misses - before.misses).toBe(3);
    } finally {
      redis.thaw();
    }
  });
});

describe('f.many() with the cross-process lock', () => {
  it('calls the batch once for all the misses; a key locked by another process takes that process’s value', async () => {
    const a = redisCache();
    const b = redisCache();
    const gate = deferred<void>();
    const fa = cached(
      async (id: number) => {
        await gate.promise;
        return `a-${id}`;
      },
      { cache: a, name: 'user', ttl: '1m', lock: { wait: '10s' } },
    );
    const batches: number[][][] = [];
    const fb = cached(async (id: number) => `b-origin-${id}`, {
      cache: b,
      name: 'user',
      ttl: '1m',
      lock: { wait: '10s' },
      batch: async (argsList) => {
        batches.push(argsList);
        return argsList.map(([id]) => `b-batch-${id}`);
      },
    });
    const held = fa(2); // process A holds key 2's lock while its origin waits
    await waitUntil(async () => (await redis.admin.keys('*lock*')).length === 1);
    const many = fb.many([[1], [2]]);
    await waitUntil(() => fb.stats.lockWaits === 1);
    gate.resolve();
    expect(await many).toEqual(['b-batch-1', 'a-2']);
    expect(await held).toBe('a-2');
    expect(batches).toEqual([[[1], [2]]]);
    expect(await redis.admin.get(fb.keyFor(2))).toContain('a-2');
  });
});
