/**
 * Every TypeScript example of docs/guides/migration-from-cache-manager.md, type-checked (tsc includes
 * __tests__) and run against the memory store, with what its comments claim asserted. The first test
 * keeps the guide and this file in step.
 */
import { describe, expect, it } from '@jest/globals';
import { cached, cacheStatus, createCache } from '../../lib/index.js';
import { blocksMissingFrom } from './guide-snippets.js';

const guide = 'docs/guides/migration-from-cache-manager.md';

describe('the guide "Migrating from cache-manager"', () => {
  it('has every TypeScript example in this file', () => {
    expect(blocksMissingFrom(guide, __filename)).toEqual([]);
  });

  it('at a glance: a miss, a hit and an invalidation, as commented', async () => {
    const cache = createCache({ store: { type: 'memory' }, namespace: 'app' }); // or { type: 'redis', url: 'redis://localhost:6379' }

    async function getUserById(id: number) {
      return { id, name: `User ${id}` };
    }

    const getUser = cached(getUserById, { cache, ttl: '5m', refreshAhead: true });

    await getUser(42);            // miss: getUserById runs, the result is stored for 5 minutes
    await getUser(42);            // hit
    await getUser.invalidate(42); // was cache.del('user:42'): resolves true

    expect(getUser.stats).toMatchObject({ misses: 1, hits: 1, errors: 0 });
    expect(await getUser(42)).toEqual({ id: 42, name: 'User 42' });
    expect(getUser.stats).toMatchObject({ misses: 2 });
    expect(await getUser.invalidate(42)).toBe(true);
    expect(await getUser.invalidate(42)).toBe(false);
    await cache.close();
  });

  it('stores for the ttl of the example, 5 minutes', async () => {
    let now = 1_700_000_000_000;
    const cache = createCache({ store: { type: 'memory' }, namespace: 'app', clock: { now: () => now } });
    const getUser = cached(async (id: number) => ({ id }), { cache, name: 'getUserById', ttl: '5m', refreshAhead: true });
    await getUser(42);
    now += 5 * 60_000 - 1;
    await getUser(42);
    now += 2;
    await getUser(42);
    expect(getUser.stats).toMatchObject({ misses: 2, hits: 1 });
    await cache.close();
  });

  it('the metadata of one call: the value, a hit, the freshness left, a Cache-Status value', async () => {
    const getPrice = cached(async (sku: string) => ({ sku, cents: 1250 }), { name: 'getPrice', ttl: '1m' });

    await getPrice('A-1');
    const { value, status, ttl } = await getPrice.withMeta('A-1'); // was wrap(key, fn, { raw: true })
    // value { sku: 'A-1', cents: 1250 }, status 'hit', ttl: ms of freshness left (at most 60000)
    cacheStatus(await getPrice.withMeta('A-1')); // an RFC 9211 Cache-Status header value

    expect({ value, status }).toEqual({ value: { sku: 'A-1', cents: 1250 }, status: 'hit' });
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(cacheStatus(await getPrice.withMeta('A-1'))).toMatch(/^cachette; hit; ttl=(59|60)$/);
  });

  it('after a write at the source: refresh stores the new value, the next call is a hit', async () => {
    const cache = createCache({ namespace: 'app' });
    const names = new Map([[42, 'Ada']]);

    const getName = cached(async (id: number) => names.get(id), { cache, name: 'getName', ttl: '1h' });

    await getName(42);         // 'Ada', stored
    names.set(42, 'Grace');
    await getName.refresh(42); // was cache.set('name:42', 'Grace'): runs the function, stores 'Grace'
    await getName(42);         // 'Grace', a hit

    expect(getName.stats).toMatchObject({ misses: 1, refreshes: 1, hits: 1 });
    expect(await getName(42)).toBe('Grace');
    await cache.close();
  });
});
