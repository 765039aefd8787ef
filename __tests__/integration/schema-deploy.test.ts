/**
 * A deploy that changes a function's result shape, on a real Redis: entries written by the old
 * version are migrated (kept, rewritten in the new shape for their remaining TTL) or recomputed, and
 * never served in the old shape, through single calls, `many()` and the in-process tier.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { cached, createCache, type Cache, type CacheConfig } from '../../lib/index.js';
import { fakeClock } from '../helpers/fake-clock.js';
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

function redisCache(extra: Partial<CacheConfig> = {}): Cache {
  const cache = createCache({ store: { type: 'redis', url: redis.url }, namespace: 'app', logger: quiet, ...extra });
  opened.push(cache);
  return cache;
}

/** Version 1 of the service: users with `fullName`. */
const v1 = async (id: number) => ({ id, fullName: `Ada ${id}` });
/** Version 2: `name`, checked by a schema. */
const User = z.object({ id: z.number(), name: z.string() });
type User = z.output<typeof User>;

describe('a deploy that changes the shape (Redis)', () => {
  it('migrates the old entries: served in the new shape without origin calls, written back for their remaining TTL', async () => {
    const clock = fakeClock();
    const before = cached(v1, { cache: redisCache({ clock }), name: 'getUser', ttl: '1h' });
    await before.many([[1], [2], [3]]);
    clock.advance(20 * 60_000);
    let runs = 0;
    const after = cached(async (id: number): Promise<User> => (runs++, { id, name: 'fresh' }), {
      cache: redisCache({ clock }),
      name: 'getUser',
      ttl: '1h',
      schema: User,
      migrate: (old) => {
        const { id, fullName } = old as { id: number; fullName: string };
        return { id, name: fullName };
      },
    });
    expect(await after(1)).toEqual({ id: 1, name: 'Ada 1' });
    expect(await after.many([[2], [3], [4]])).toEqual([
      { id: 2, name: 'Ada 2' },
      { id: 3, name: 'Ada 3' },
      { id: 4, name: 'fresh' },
    ]);
    expect(runs).toBe(1); // only the key nobody had written
    for (const id of [1, 2, 3]) {
      const key = after.keyFor(id);
      // Migrations are written back in the background: wait for the rewritten entry.
      await waitForValue(key, (text) => text.includes(`"name":"Ada ${id}"`));
      const pttl = await redis.admin.pTTL(key);
      expect(pttl).toBeLessThanOrEqual(40 * 60_000);
      expect(pttl).toBeGreaterThan(39 * 60_000);
    }
    expect(after.stats).toMatchObject({ hits: 3, misses: 1, invalid: 3, errors: 0 });
  });

  it('recomputes and overwrites the old entries without migrate, and never serves them through the tier', async () => {
    await cached(v1, { cache: redisCache(), name: 'getUser', ttl: '1h' }).many([[1], [2]]);
    const cache = redisCache({ l1: { maxEntries: 100 } });
    await waitUntil(() => cache.health().l1?.state === 'ready');
    let runs = 0;
    const after = cached(async (id: number): Promise<User> => (runs++, { id, name: `User ${id}` }), {
      cache,
      name: 'getUser',
      ttl: '1h',
      schema: User,
    });
    expect(await after(1)).toEqual({ id: 1, name: 'User 1' });
    expect(await after.many([[1], [2]])).toEqual([
      { id: 1, name: 'User 1' },
      { id: 2, name: 'User 2' },
    ]);
    expect(runs).toBe(2);
    expect(await redis.admin.get(after.keyFor(2))).toContain('"name":"User 2"');
    expect(await after(2)).toEqual({ id: 2, name: 'User 2' }); // a store hit, kept in the tier
    expect(await after(2)).toEqual({ id: 2, name: 'User 2' }); // from the tier
    expect(after.stats).toMatchObject({ invalid: 2, misses: 2, hits: 3, l1Hits: 1 });
  });
});

async function waitForValue(key: string, ok: (text: string) => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const text = await redis.admin.get(key);
    if (text !== null && ok(text)) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`${key} never held the expected value`);
}
