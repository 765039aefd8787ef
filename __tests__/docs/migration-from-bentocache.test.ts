/**
 * Every TypeScript example of docs/guides/migration-from-bentocache.md, type-checked (tsc includes
 * __tests__) and run, with what its comments claim asserted. The at-a-glance example needs Redis for
 * its in-process tier: it runs against a real redis-server, reached through `REDIS_URL` as the
 * example reads it. The first test keeps the guide and this file in step.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cached, createCache } from '../../lib/index.js';
import { startRedis, waitUntil, type TestRedis } from '../helpers/redis-server.js';
import { blocksMissingFrom } from './guide-snippets.js';

const guide = 'docs/guides/migration-from-bentocache.md';
let redis: TestRedis;
const urlBefore = process.env.REDIS_URL;

beforeAll(async () => {
  redis = await startRedis();
  process.env.REDIS_URL = redis.url;
}, 30_000);

afterAll(async () => {
  if (urlBefore === undefined) delete process.env.REDIS_URL;
  else process.env.REDIS_URL = urlBefore;
  await redis.stop();
});

describe('the guide "Migrating from bentocache"', () => {
  it('has every TypeScript example in this file', () => {
    expect(blocksMissingFrom(guide, __filename)).toEqual([]);
  });

  it('at a glance: a miss, a hit from Redis, a hit from the process; a tag invalidation and an invalidate, as commented', async () => {
    const cache = createCache({
      store: { type: 'redis', url: process.env.REDIS_URL ?? 'redis://localhost:6379' },
      namespace: 'app',
      l1: { maxEntries: 10_000, maxBytes: 10 * 1024 * 1024 }, // the in-process tier; no bus to set up
    });
    try {
      await cache.connect();
      await waitUntil(() => cache.health().l1?.state === 'ready');

      async function getUserById(id: number) {
        return { id, name: `User ${id}` };
      }

      const getUser = cached(getUserById, {
        cache,
        ttl: '5m',
        staleWhileRevalidate: '6h', // grace, with bentocache's default soft timeout of 0
        staleIfError: '6h',         // grace, when the factory fails
        tags: ['users'],
      });

      await getUser(42);                     // miss: getUserById runs, the result goes to Redis
      await getUser(42);                     // hit from Redis; later hits come from the process once it holds the value
      await cache.invalidateTags(['users']); // was deleteByTag: every process drops its copy
      await getUser.invalidate(42);          // was delete({ key: 'user:42' })

      expect(getUser.stats).toMatchObject({ misses: 1, hits: 1, errors: 0 });
      expect(await redis.admin.exists(getUser.keyFor(42))).toBe(0);
      expect(await getUser(42)).toEqual({ id: 42, name: 'User 42' });
      expect(getUser.stats).toMatchObject({ misses: 2 });
      // Its own write is announced too: the process holds the value once a read is not raced by that
      // announcement, which takes one round trip on the tracking connection. Then hits skip Redis.
      await waitUntil(async () => (await getUser(42), getUser.stats.l1Hits > 0));
      const gets = Number(/cmdstat_get:calls=(\d+)/.exec(await redis.admin.info('commandstats'))?.[1]);
      for (let i = 0; i < 10; i++) expect(await getUser(42)).toEqual({ id: 42, name: 'User 42' });
      expect(Number(/cmdstat_get:calls=(\d+)/.exec(await redis.admin.info('commandstats'))?.[1])).toBe(gets);
      expect(getUser.stats).toMatchObject({ misses: 2, errors: 0 });
    } finally {
      await cache.close();
    }
  });

  it('tags from the arguments: invalidating a category recomputes only its products', async () => {
    const cache = createCache({ store: { type: 'memory' }, namespace: 'shop' });
    let loads = 0;

    const getProduct = cached(async (id: number, category: string) => ({ id, category, load: ++loads }), {
      cache,
      name: 'getProduct',
      ttl: '1h',
      tags: (id, category) => [`product:${id}`, `category:${category}`],
    });

    await getProduct(1, 'books');
    await getProduct(2, 'games');
    await cache.invalidateTags(['category:books']); // only product 1 is recomputed on its next call

    expect((await getProduct(1, 'books')).load).toBe(3);
    expect((await getProduct(2, 'games')).load).toBe(2);
    await cache.close();
  });
});
