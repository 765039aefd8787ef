/**
 * Every TypeScript example of docs/guides/migration-from-cachified.md, type-checked (tsc includes
 * __tests__) and run against the memory store, with what its comments claim asserted. The first test
 * keeps the guide and this file in step.
 */
import { describe, expect, it, jest } from '@jest/globals';
import { z } from 'zod';
import { cached, createCache } from '../../lib/index.js';
import { blocksMissingFrom } from './guide-snippets.js';

const guide = 'docs/guides/migration-from-cachified.md';

describe('the guide "Migrating from @epic-web/cachified"', () => {
  it('has every TypeScript example in this file', () => {
    expect(blocksMissingFrom(guide, __filename)).toEqual([]);
  });

  it('at a glance: a miss, a hit, a forced refresh, an invalidation and the key, as commented; a version changes the key', async () => {
    const cache = createCache({ store: { type: 'memory', maxEntries: 1000 }, namespace: 'app' }); // or { type: 'redis', url: 'redis://localhost:6379' }

    async function getUserById(userId: number) {
      return { id: userId, email: `user${userId}@example.org` };
    }

    const getUser = cached(getUserById, { cache, ttl: '5m', staleWhileRevalidate: '10m' });

    await getUser(1);                         // miss: getUserById runs, the result is stored
    await getUser(1);                         // hit
    await getUser(1, { forceRefresh: true }); // was forceFresh: runs getUserById, stores the result
    await getUser.invalidate(1);              // was lru.delete('user-1'): resolves true
    getUser.keyFor(1);                        // 'app:getUserById:1'

    expect(getUser.keyFor(1)).toBe('app:getUserById:1');
    expect(getUser.stats).toMatchObject({ hits: 1, misses: 1, refreshes: 1, errors: 0 });
    await getUser(1, { forceRefresh: true });
    expect(await getUser.invalidate(1)).toBe(true);
    expect(await getUser(2)).toEqual({ id: 2, email: 'user2@example.org' });

    const getUserV2 = cached(getUserById, { cache, ttl: '5m', version: 2 });
    getUserV2.keyFor(1); // 'app:getUserById:v2:1'

    expect(getUserV2.keyFor(1)).toBe('app:getUserById:v2:1');
    await getUserV2(2);
    expect(getUserV2.stats).toMatchObject({ hits: 0, misses: 1 }); // the unversioned entry of 2 is not read
    await cache.close();
  });

  it('the value decides the TTL: a null result lives 10 s, a user 1 h', async () => {
    async function findUser(userId: number): Promise<{ id: number } | null> {
      return userId > 0 ? { id: userId } : null;
    }

    const user = cached(findUser, {
      ttl: (result) => (result === null ? '10s' : '1h'), // was: context.metadata.ttl = … in getFreshValue
    });

    // The clock is the memory store's: read the stored expiry through a cache with a fake one instead.
    let now = 1_700_000_000_000;
    const cache = createCache({ clock: { now: () => now } });
    const timed = cached(findUser, { cache, ttl: (result) => (result === null ? '10s' : '1h') });
    await timed(0);
    await timed(1);
    now += 10_001;
    await timed(0);
    await timed(1);
    expect(timed.stats).toMatchObject({ hits: 1, misses: 3 });
    now += 3_600_000;
    await timed(1);
    expect(timed.stats).toMatchObject({ hits: 1, misses: 4 });

    expect(await user(0)).toBeNull();
    expect(await user(0)).toBeNull();
    expect(await user(3)).toEqual({ id: 3 });
    expect(user.stats).toMatchObject({ hits: 1, misses: 2 });
    await cache.close();
  });

  it('when the stored shape changes: an entry of the old shape is migrated, checked and served; a bad origin result rejects', async () => {
    // The example's cache has the default logger: it writes the first schema failure once.
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const cache = createCache({ namespace: 'app' });
    const User = z.object({ id: z.number(), email: z.string() });

    async function loadUser(id: number) {
      return { id, email: `user${id}@example.org` };
    }

    const getUser = cached(loadUser, {
      cache,
      ttl: '5m',
      schema: User, // was checkValue: User
      // was checkValue(value, migrate) { … return migrate({ … }) }: here for entries that stored `mail`
      migrate: (old) => ({ id: (old as { id: number }).id, email: (old as { mail: string }).mail }),
    });

    // An entry written by the previous deploy, under the same key.
    const previous = cached(async (id: number) => ({ id, mail: `old${id}@example.org` }), { cache, sharedContext: 'loadUser' });
    await previous(1);
    expect(previous.keyFor(1)).toBe(getUser.keyFor(1));

    expect(await getUser(1)).toEqual({ id: 1, email: 'old1@example.org' }); // migrated, not recomputed
    expect(getUser.stats).toMatchObject({ hits: 1, misses: 0, invalid: 1 });
    expect(await getUser(1)).toEqual({ id: 1, email: 'old1@example.org' }); // written back: passes now
    expect(getUser.stats).toMatchObject({ hits: 2, invalid: 1 });

    // Not migratable (no `mail`): a miss, recomputed.
    const broken = cached(async (id: number) => ({ id }), { cache, sharedContext: 'loadUser' });
    await broken(2);
    expect(await getUser(2)).toEqual({ id: 2, email: 'user2@example.org' });
    expect(getUser.stats).toMatchObject({ misses: 1, invalid: 2 });

    const bad = cached(async (id: number) => ({ id, email: 42 as unknown as string }), { cache, name: 'bad', schema: User });
    await expect(bad(1)).rejects.toThrow('does not match the schema');
    await cache.close();
    expect(warn.mock.calls.map((call) => String(call[0]))).toEqual([expect.stringContaining('a cached value failed the schema; migrated it')]);
    warn.mockRestore();
  });

  it('batches: one read for the list, only the misses to fetchUsers, in one call', async () => {
    const cache = createCache({ namespace: 'app' });
    const requested: number[][] = [];

    async function fetchUsers(ids: number[]) {
      requested.push(ids);
      return ids.map((id) => ({ id, email: `user${id}@example.org` }));
    }

    const userById = cached(async (id: number) => (await fetchUsers([id]))[0]!, {
      cache,
      name: 'userById',
      ttl: '1m',
      batch: (argsList) => fetchUsers(argsList.map(([id]) => id)),
    });

    await userById.many([[1], [2]]); // one fetchUsers([1, 2])
    await userById.many([[2], [3]]); // 2 is a hit: one fetchUsers([3])

    expect(requested).toEqual([[1, 2], [3]]);
    expect(await userById.many([[3], [1]])).toEqual([
      { id: 3, email: 'user3@example.org' },
      { id: 1, email: 'user1@example.org' },
    ]);
    expect(requested).toHaveLength(2);
    await cache.close();
  });
});
