/**
 * `migrate` (an entry that fails the schema turned into the new shape, served and written back for
 * its remaining TTL) and the schema in front of the in-process tier (`l1`): checked once when the
 * tier is filled, or per hit for its private copies (`values: 'copied'`).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { cached, createCache, MemoryStore, type Cache, type KeyWatch, type KeyWatchListener, type StandardSchema, type Store } from '../lib/index.js';
import { setup } from './helpers/schema-cache.js';

const User = z.object({ id: z.number(), name: z.string() });
type User = z.output<typeof User>;
const oldUser = async (id: number) => ({ id, fullName: `Ada ${id}` });

describe('migrate', () => {
  it('turns an old entry into the new shape without running the origin, and writes it back for its remaining TTL', async () => {
    const { cache, store, clock, reports } = setup();
    const before = cached(oldUser, { cache, name: 'getUser', ttl: '1h' });
    await before(1);
    clock.advance(20 * 60_000); // 40 minutes left
    let runs = 0;
    const seen: unknown[] = [];
    const after = cached(async (id: number): Promise<User> => (runs++, { id, name: 'fresh' }), {
      cache,
      name: 'getUser',
      ttl: '1h',
      schema: User,
      migrate: (old, info) => {
        seen.push(info);
        const { id, fullName } = old as { id: number; fullName: string };
        return { id, name: fullName };
      },
    });
    expect(await after(1)).toEqual({ id: 1, name: 'Ada 1' });
    expect(runs).toBe(0);
    expect(seen).toEqual([{ paths: ['name'], createdAt: clock.now() - 20 * 60_000 }]);
    const key = after.keyFor(1);
    expect(String(store.get(key))).toContain('{"id":1,"name":"Ada 1"}');
    expect(store.ttlOf(key)).toBe(40 * 60_000);
    expect(await after(1)).toEqual({ id: 1, name: 'Ada 1' }); // the written-back entry passes: no second migration
    expect(seen).toHaveLength(1);
    expect(after.stats).toMatchObject({ hits: 2, misses: 0, invalid: 1, errors: 0 });
    expect(reports.map((r) => r.fields.kind)).toEqual(['schema']);
    expect(reports[0]?.message).toBe('cachette: a cached value failed the schema; migrated it and wrote it back');
  });

  it('keeps the stale window of an entry written with one (its physical TTL)', async () => {
    const { cache, store, clock } = setup();
    await cached(oldUser, { cache, name: 'swrUser', ttl: '10m', staleWhileRevalidate: '5m' })(1);
    clock.advance(60_000);
    const after = cached(async (id: number): Promise<User> => ({ id, name: 'fresh' }), {
      cache,
      name: 'swrUser',
      ttl: '10m',
      staleWhileRevalidate: '5m',
      schema: User,
      migrate: async (old) => ({ id: (old as { id: number }).id, name: 'migrated' }),
    });
    expect(await after(1)).toEqual({ id: 1, name: 'migrated' });
    expect(store.ttlOf(after.keyFor(1))).toBe(14 * 60_000);
  });

  it('makes the entry a miss when migrate throws, rejects, or returns a value that fails the schema', async () => {
    const cases: Array<(old: unknown) => unknown> = [
      () => {
        throw new Error('no');
      },
      () => Promise.reject(new Error('no')),
      () => ({ id: 'not a number', name: 'x' }),
    ];
    for (const migrate of cases) {
      const { cache, store, reports } = setup();
      await cached(oldUser, { cache, name: 'm', ttl: '1h' })(1);
      let runs = 0;
      const f = cached(async (id: number): Promise<User> => (runs++, { id, name: 'fresh' }), { cache, name: 'm', ttl: '1h', schema: User, migrate: migrate as (old: unknown) => User });
      expect(await f(1)).toEqual({ id: 1, name: 'fresh' });
      expect(runs).toBe(1);
      expect(String(store.get(f.keyFor(1)))).toContain('"name":"fresh"');
      expect(f.stats).toMatchObject({ misses: 1, invalid: 1 });
      expect(reports.map((r) => r.fields.kind)).toEqual(['schema']);
      expect(JSON.stringify(reports)).not.toContain('Ada');
    }
  });
});

/** A memory store with a key watch the test controls (always ready here), for a cache with `l1`. */
class WatchedStore implements Store {
  readonly name = 'watched';
  readonly memory = new MemoryStore();
  listener: KeyWatchListener | undefined;
  get(key: string) {
    return this.memory.get(key);
  }
  set(key: string, value: string | Uint8Array, ttlMs: number | undefined) {
    this.memory.set(key, value, ttlMs);
  }
  delete(key: string) {
    return this.memory.delete(key);
  }
  async getWithExpiry(key: string): Promise<readonly [string | Uint8Array | undefined, number | undefined]> {
    const ttl = this.memory.ttlOf(key);
    return [this.memory.get(key), ttl === Infinity ? undefined : ttl];
  }
  watchKeys(_prefix: string, listener: KeyWatchListener): KeyWatch {
    this.listener = listener;
    listener.state('ready');
    return { state: 'ready', expire: async () => true, close: async () => {} } as KeyWatch;
  }
}

/** A zod-like schema that counts its checks and turns `at` into a Date. */
function countingSchema() {
  const Stamped = z.object({ at: z.string().transform((text) => new Date(text)) });
  const counter = { checks: 0 };
  const schema: StandardSchema<{ at: string }, { at: Date }> = {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: (value) => {
        counter.checks++;
        return Stamped['~standard'].validate(value) as { value: { at: Date } };
      },
    },
  };
  return { schema, counter };
}

let caches: Cache[] = [];
afterEach(async () => {
  await Promise.all(caches.map((cache) => cache.close()));
  caches = [];
});

describe('the in-process tier', () => {
  it("holds the schema's output, checked once when it is filled, not on each tier hit", async () => {
    const store = new WatchedStore();
    const cache = createCache({ store, namespace: 'ns', l1: { maxEntries: 10 } });
    caches.push(cache);
    const { schema, counter } = countingSchema();
    const f = cached(async () => ({ at: '2024-01-15T10:30:00.000Z' }), { cache, name: 'tiered', ttl: '1m', schema });
    await f(); // miss: the fresh result is checked
    await f(); // store hit: checked, and kept in the tier
    const checks = counter.checks;
    const hits = [await f(), await f(), await f()];
    expect(f.stats.l1Hits).toBe(3);
    expect(counter.checks).toBe(checks);
    for (const hit of hits) expect(hit.at).toBeInstanceOf(Date);
  });

  it("checks each private copy of a 'copied' tier", async () => {
    const store = new WatchedStore();
    const cache = createCache({ store, namespace: 'ns', l1: { maxEntries: 10, values: 'copied' } });
    caches.push(cache);
    const { schema, counter } = countingSchema();
    const f = cached(async () => ({ at: '2024-01-15T10:30:00.000Z' }), { cache, name: 'copied', ttl: '1m', schema });
    await f();
    await f();
    const checks = counter.checks;
    const [a, b] = [await f(), await f()];
    expect(f.stats.l1Hits).toBe(2);
    expect(counter.checks).toBe(checks + 2);
    expect(a.at).toBeInstanceOf(Date);
    expect(a).not.toBe(b);
  });

  it('never fills the tier with an entry that fails the schema', async () => {
    const store = new WatchedStore();
    const cache = createCache({ store, namespace: 'ns', l1: { maxEntries: 10 }, logger: { warn() {}, error() {} } });
    caches.push(cache);
    await cached(oldUser, { cache, name: 'tierUser', ttl: '1m' })(1);
    const f = cached(async (id: number): Promise<User> => ({ id, name: 'fresh' }), { cache, name: 'tierUser', ttl: '1m', schema: User });
    expect(await f(1)).toEqual({ id: 1, name: 'fresh' });
    expect(await f(1)).toEqual({ id: 1, name: 'fresh' });
    expect(await f(1)).toEqual({ id: 1, name: 'fresh' });
    expect(f.stats).toMatchObject({ invalid: 1, l1Hits: 1 });
  });
});
