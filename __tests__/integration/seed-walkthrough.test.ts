/**
 * The four walkthrough examples of the aiocache article cachette starts from, on a real Redis,
 * with the article's defects fixed (see docs/guides/migration-from-enhanced-cached.md).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { cached, createCache, type Cache } from '../../lib/index.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';

let redis: TestRedis;
let cache: Cache;
let stamp = 0;
/** A strictly increasing stand-in for the article's `datetime.now().isoformat()`. */
const now = (): string => `t${++stamp}`;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  await redis.admin.flushAll();
  cache = createCache({ store: { type: 'redis', url: redis.url }, namespace: 'n1' });
});
afterEach(async () => {
  await cache.close();
});

describe('the seed walkthrough', () => {
  it('example 1: miss, hit, bypass, invalidate, stats', async () => {
    const fetched: number[] = [];
    const getUserData = cached(
      async (userId: number) => {
        fetched.push(userId);
        return { user_id: userId, name: `User ${userId}`, last_updated: now() };
      },
      { cache, name: 'get_user_data', ttl: '10s' },
    );
    const user1 = await getUserData(101);
    const user2 = await getUserData(101);
    expect(user2.last_updated).toBe(user1.last_updated);
    const user3 = await getUserData(101, { bypassCache: true });
    expect(user3.last_updated).not.toBe(user1.last_updated);
    expect(await getUserData(101)).toEqual(user1); // bypass did not overwrite the entry
    expect(await getUserData.invalidate(101)).toBe(true);
    const user4 = await getUserData(101);
    expect(user4.last_updated).not.toBe(user3.last_updated);
    expect(fetched).toEqual([101, 101, 101]);
    expect(getUserData.stats).toMatchObject({ hits: 2, misses: 2, bypasses: 1, refreshes: 0, coalesced: 0, errors: 0 });
    // The entry, and the clear generations of the namespace (cache.clear()) and the function (f.clear()).
    expect((await redis.admin.keys('*')).sort()).toEqual(['n1:get_user_data:101', 'n1:get_user_data|gen', 'n1|gen']);
  });

  it('example 2: versioned keys from a keyBuilder', async () => {
    const getProductData = cached(
      async (productId: number, version = 'v1') => ({ product_id: productId, version, timestamp: now() }),
      { cache, name: 'get_product_data', ttl: '10s', keyBuilder: (productId, version = 'v1') => `product:${productId}:ver${version}` },
    );
    const product1 = await getProductData(201, 'v1');
    const product2 = await getProductData(201, 'v1');
    const product3 = await getProductData(201, 'v2');
    expect(product2.timestamp).toBe(product1.timestamp);
    expect(product3.timestamp).not.toBe(product1.timestamp);
    expect(product3.version).toBe('v2');
    expect((await redis.admin.keys('*')).sort()).toEqual([
      'n1:get_product_data:product:201:verv1',
      'n1:get_product_data:product:201:verv2',
      'n1:get_product_data|gen',
      'n1|gen',
    ]);
  });

  it('example 3: TTL from the result (premium 60 s, others 20 s) and from its size', async () => {
    const getUserSubscription = cached(
      async (userId: number) => {
        const isPremium = userId % 3 === 0;
        return { user_id: userId, is_premium: isPremium, plan: isPremium ? 'premium' : 'basic' };
      },
      { cache, name: 'get_user_subscription', ttl: (result) => (result.is_premium ? 60_000 : 20_000) },
    );
    await getUserSubscription(101);
    await getUserSubscription(102);
    const regular = await redis.admin.pTTL(getUserSubscription.keyFor(101));
    const premium = await redis.admin.pTTL(getUserSubscription.keyFor(102));
    expect(regular).toBeGreaterThan(0);
    expect(regular).toBeLessThanOrEqual(20_000);
    expect(premium).toBeGreaterThan(20_000);
    expect(premium).toBeLessThanOrEqual(60_000);

    const complexityTtl = (result: { products: unknown[] }): number =>
      Math.max(20, Math.min(60, 20 + Math.floor(JSON.stringify(result).length / 20))) * 1000;
    const getProductCatalog = cached(
      async (category: string, includeDetails: boolean = false) => ({
        category,
        products: Array.from({ length: 6 }, (_, i) => (includeDetails ? { id: i, description: `Detailed description ${i}`.repeat(3) } : { id: i })),
      }),
      { cache, name: 'get_product_catalog', ttl: complexityTtl },
    );
    const simple = await getProductCatalog('Books');
    const detailed = await getProductCatalog('Electronics', true);
    expect(complexityTtl(detailed)).toBeGreaterThan(complexityTtl(simple));
    expect(await redis.admin.pTTL(getProductCatalog.keyFor('Electronics', true))).toBeGreaterThan(
      await redis.admin.pTTL(getProductCatalog.keyFor('Books')),
    );
  });

  it('example 4: a per-call TTL on a hit extends the live entry', async () => {
    let runs = 0;
    const getProductData = cached(
      async (productId: number) => ({ product_id: productId, price: 10 + (productId % 90), run: ++runs }),
      { cache, name: 'get_product_data', ttl: '30s' },
    );
    const data1 = await getProductData(333);
    expect(await redis.admin.pTTL(getProductData.keyFor(333))).toBeLessThanOrEqual(30_000);
    const data2 = await getProductData(333, { ttl: '60s' });
    expect(data2).toEqual(data1);
    const extended = await redis.admin.pTTL(getProductData.keyFor(333));
    expect(extended).toBeGreaterThan(30_000);
    expect(extended).toBeLessThanOrEqual(60_000);
    expect(runs).toBe(1);
  });
});
