/**
 * cached() end to end on a real redis-server: each function option and call option, observed
 * through a separate inspection client (GET / PTTL / INFO commandstats).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { cached, createCache, type Cache } from '../../lib/index.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';

let redis: TestRedis;
let cache: Cache;
/** The `kind` of each failure the cache reported in the current test. */
let logged: string[];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  await redis.admin.flushAll();
  logged = [];
  const record = (fields: Record<string, unknown>): void => void logged.push(String(fields.kind));
  cache = createCache({ store: { type: 'redis', url: redis.url }, namespace: 'test', logger: { warn: record, error: record } });
});
afterEach(async () => {
  await cache.close();
});

/** A counting origin: each run returns a new `n`. */
function counter() {
  let runs = 0;
  const fn = async (id: number) => ({ id, n: ++runs });
  return { fn, runs: () => runs };
}

/** Commands Redis executed of each kind since the last reset. */
async function commandCounts(): Promise<Record<string, number>> {
  const info = await redis.admin.info('commandstats');
  const counts: Record<string, number> = {};
  for (const match of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) counts[match[1]!] = Number(match[2]);
  return counts;
}

describe('on a real Redis', () => {
  it('stores the first result and serves it on the next call', async () => {
    const origin = counter();
    const getUser = cached(origin.fn, { cache, name: 'getUser', ttl: '10s' });
    expect(await getUser(1)).toEqual({ id: 1, n: 1 });
    expect(await getUser(1)).toEqual({ id: 1, n: 1 });
    expect(origin.runs()).toBe(1);
    expect(getUser.stats).toMatchObject({ hits: 1, misses: 1, errors: 0 });
    expect(getUser.keyFor(1)).toBe('test:getUser:1');
    expect(await redis.admin.get('test:getUser:1')).toMatch(/^s1\|json\|\d+\|10000\|[\w-]{8}\.[\w-]{8},[\w-]{8}\.[\w-]{8}\|\{"id":1,"n":1\}$/);
    const pttl = await redis.admin.pTTL('test:getUser:1');
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(10_000);
  });

  it('uses exactly one Redis command per hit and two per miss, sliding TTL included', async () => {
    const origin = counter();
    const getUser = cached(origin.fn, { cache, name: 'getUser', ttl: '10s' });
    await getUser(1); // connect and warm up
    await redis.admin.configResetStat();
    await getUser(2); // miss: GET + SET
    await getUser(2); // hit: GET
    await getUser(2, { ttl: '1m' }); // hit with extension: GETEX
    const counts = await commandCounts();
    expect(counts).toMatchObject({ get: 2, set: 1, getex: 1 });
    expect(Object.keys(counts).filter((name) => !['get', 'set', 'getex', 'config', 'info'].includes(name))).toEqual([]);
  });

  it('caches null and undefined results as hits', async () => {
    let runs = 0;
    const none = cached(async (_id: number) => {
      runs++;
      return null;
    }, { cache, name: 'none' });
    const nothing = cached(async (_id: number): Promise<void> => {
      runs++;
    }, { cache, name: 'nothing' });
    expect(await none(1)).toBeNull();
    expect(await none(1)).toBeNull();
    expect(await nothing(1)).toBeUndefined();
    expect(await nothing(1)).toBeUndefined();
    expect(runs).toBe(2);
    expect(none.stats.hits + nothing.stats.hits).toBe(2);
    expect(await redis.admin.get(nothing.keyFor(1))).toMatch(/^s1\|~\|\d+\|\|[\w-]{8}\.[\w-]{8},[\w-]{8}\.[\w-]{8}\|$/);
  });

  it('stores a miss with the per-call ttl, not the function ttl', async () => {
    const getUser = cached(counter().fn, { cache, name: 'getUser', ttl: '10s' });
    await getUser(1, { ttl: '1h' });
    expect(await redis.admin.pTTL(getUser.keyFor(1))).toBeGreaterThan(10_000);
  });

  it('extends a live entry when a per-call ttl is given on a hit', async () => {
    const origin = counter();
    const getUser = cached(origin.fn, { cache, name: 'getUser', ttl: '10s' });
    await getUser(1);
    expect(await redis.admin.pTTL(getUser.keyFor(1))).toBeLessThanOrEqual(10_000);
    expect(await getUser(1, { ttl: 60_000 })).toEqual({ id: 1, n: 1 });
    expect(await redis.admin.pTTL(getUser.keyFor(1))).toBeGreaterThan(10_000);
    expect(origin.runs()).toBe(1);
  });

  it('leaves the TTL alone on a hit when updateTtlOnHit is false', async () => {
    const getUser = cached(counter().fn, { cache, name: 'getUser', ttl: '10s', updateTtlOnHit: false });
    await getUser(1);
    await getUser(1, { ttl: 60_000 });
    expect(await redis.admin.pTTL(getUser.keyFor(1))).toBeLessThanOrEqual(10_000);
  });

  it('computes the TTL from the result', async () => {
    const getSubscription = cached(async (userId: number) => ({ userId, premium: userId % 3 === 0 }), {
      cache,
      name: 'getSubscription',
      ttl: (result) => (result.premium ? '60s' : '20s'),
    });
    await getSubscription(3);
    await getSubscription(4);
    const premium = await redis.admin.pTTL(getSubscription.keyFor(3));
    const basic = await redis.admin.pTTL(getSubscription.keyFor(4));
    expect(premium).toBeGreaterThan(20_000);
    expect(premium).toBeLessThanOrEqual(60_000);
    expect(basic).toBeGreaterThan(0);
    expect(basic).toBeLessThanOrEqual(20_000);
  });

  it('stores entries without expiry when no ttl is given', async () => {
    const getUser = cached(counter().fn, { cache, name: 'getUser' });
    await getUser(1);
    expect(await redis.admin.pTTL(getUser.keyFor(1))).toBe(-1);
  });

  it('stores nothing for a ttl of 0', async () => {
    const origin = counter();
    const getUser = cached(origin.fn, { cache, name: 'getUser', ttl: 0 });
    await getUser(1);
    await getUser(1);
    expect(origin.runs()).toBe(2);
    expect(await redis.admin.exists(getUser.keyFor(1))).toBe(0);
  });

  it('bypassCache neither reads nor writes, unless cacheWrite is true', async () => {
    const origin = counter();
    const getUser = cached(origin.fn, { cache, name: 'getUser', ttl: '10s' });
    await getUser(1);
    expect(await getUser(1, { bypassCache: true })).toEqual({ id: 1, n: 2 });
    expect(await getUser(1)).toEqual({ id: 1, n: 1 }); // the stored entry was not touched
    expect(await getUser(1, { bypassCache: true, cacheWrite: true })).toEqual({ id: 1, n: 3 });
    expect(await getUser(1)).toEqual({ id: 1, n: 3 });
    expect(getUser.stats).toMatchObject({ bypasses: 2, hits: 2, misses: 1 });
  });

  it('forceRefresh skips the read and stores the fresh value', async () => {
    const origin = counter();
    const getUser = cached(origin.fn, { cache, name: 'getUser', ttl: '10s' });
    await getUser(1);
    expect(await getUser(1, { forceRefresh: true })).toEqual({ id: 1, n: 2 });
    expect(await getUser(1)).toEqual({ id: 1, n: 2 });
    expect(await getUser(1, { forceRefresh: true, cacheWrite: false })).toEqual({ id: 1, n: 3 });
    expect(await getUser(1)).toEqual({ id: 1, n: 2 });
    expect(getUser.stats.refreshes).toBe(2);
  });

  it('cacheRead: false skips the read but still writes', async () => {
    const origin = counter();
    const getUser = cached(origin.fn, { cache, name: 'getUser', ttl: '10s' });
    await getUser(1);
    expect(await getUser(1, { cacheRead: false })).toEqual({ id: 1, n: 2 });
    expect(await getUser(1)).toEqual({ id: 1, n: 2 });
  });

  it('cacheWrite: false never writes', async () => {
    const getUser = cached(counter().fn, { cache, name: 'getUser', ttl: '10s' });
    await getUser(1, { cacheWrite: false });
    expect(await redis.admin.exists(getUser.keyFor(1))).toBe(0);
  });

  it('waitForWrite: false returns first and cache.close() waits for the write', async () => {
    const getUser = cached(counter().fn, { cache, name: 'getUser', ttl: '10s' });
    const key = getUser.keyFor(1);
    await getUser(1, { waitForWrite: false });
    await cache.close();
    expect(await redis.admin.exists(key)).toBe(1);
  });

  it('invalidate removes the entry and reports whether one existed', async () => {
    const origin = counter();
    const getUser = cached(origin.fn, { cache, name: 'getUser', ttl: '10s' });
    await getUser(1);
    expect(await getUser.invalidate(1)).toBe(true);
    expect(await getUser.invalidate(1)).toBe(false);
    expect(await getUser(1)).toEqual({ id: 1, n: 2 });
  });

  it('refresh runs the origin, stores and returns the fresh value', async () => {
    const origin = counter();
    const getUser = cached(origin.fn, { cache, name: 'getUser', ttl: '10s' });
    await getUser(1);
    expect(await getUser.refresh(1)).toEqual({ id: 1, n: 2 });
    expect(await getUser(1)).toEqual({ id: 1, n: 2 });
  });

  it('shares entries between functions with the same sharedContext', async () => {
    let runs = 0;
    const a = cached(async (id: number) => ({ id, from: 'a', run: ++runs }), { cache, name: 'a', sharedContext: 'user' });
    const b = cached(async (id: number) => ({ id, from: 'b', run: ++runs }), { cache, name: 'b', sharedContext: 'user' });
    expect(a.keyFor(1)).toBe(b.keyFor(1));
    await a(1);
    expect(await b(1)).toEqual({ id: 1, from: 'a', run: 1 });
  });

  it('puts version, keyPrefix and the keyBuilder result into the key', async () => {
    const getProduct = cached(async (id: number, version = 'v1') => ({ id, version }), {
      cache,
      name: 'getProduct',
      keyPrefix: 'shop',
      version: 3,
      keyBuilder: (id, version = 'v1') => `product:${id}:ver${version}`,
    });
    await getProduct(201, 'v2');
    // The entry, and the clear generations of the namespace and of the function (f.clear()).
    expect((await redis.admin.keys('*')).sort()).toEqual(['test:shop:getProduct:v3:product:201:verv2', 'test:shop:getProduct:v3|gen', 'test|gen']);
  });

  it('overwrites corrupt and foreign bytes with a fresh value', async () => {
    const origin = counter();
    const getUser = cached(origin.fn, { cache, name: 'getUser', ttl: '10s' });
    const key = getUser.keyFor(1);
    await redis.admin.set(key, 'not an entry at all');
    expect(await getUser(1)).toEqual({ id: 1, n: 1 });
    expect(await getUser(1)).toEqual({ id: 1, n: 1 });
    await redis.admin.set(key, 'c1|json|1|10000|{"id":1,"n":');
    expect(await getUser(1)).toEqual({ id: 1, n: 2 });
    expect(await getUser(1)).toEqual({ id: 1, n: 2 });
    await redis.admin.del(key);
    await redis.admin.hSet(key, 'field', 'value'); // wrong type: GET fails with WRONGTYPE
    expect(await getUser(1)).toEqual({ id: 1, n: 3 });
    expect(await getUser(1)).toEqual({ id: 1, n: 3 });
    expect(getUser.stats).toMatchObject({ misses: 3, hits: 3, errors: 2 });
    expect(logged).toEqual(['decode', 'read']);
  });

  it('runs the origin once for many concurrent misses of one key', async () => {
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = cached(async (id: number) => {
      runs++;
      await gate;
      return { id, runs };
    }, { cache, name: 'slow', ttl: '10s' });
    const calls = Array.from({ length: 50 }, () => slow(7));
    await new Promise((resolve) => setTimeout(resolve, 50)); // let every call finish its read
    release();
    const results = await Promise.all(calls);
    expect(runs).toBe(1);
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(slow.stats.misses).toBe(50);
    expect(slow.stats.coalesced).toBe(49);
  });

  it('gives every concurrent waiter the same origin rejection and caches nothing', async () => {
    let runs = 0;
    const failure = new Error('origin down');
    const broken = cached(async (_id: number) => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw failure;
    }, { cache, name: 'broken' });
    const settled = await Promise.allSettled(Array.from({ length: 10 }, () => broken(1)));
    expect(runs).toBe(1);
    for (const result of settled) expect(result).toEqual({ status: 'rejected', reason: failure });
    expect(await redis.admin.exists(broken.keyFor(1))).toBe(0);
    await expect(broken(1)).rejects.toBe(failure);
    expect(runs).toBe(2);
  });
});
