/**
 * The Redis store's circuit breaker against a real redis-server that is stopped, restarted and
 * frozen. The cache's clock is moved by hand, so the cool-down passes exactly when the test says;
 * the only real waiting is for the client to reconnect (polled, bounded). Assertions are states and
 * counts: the breaker's, the function's stats, and the commands the server actually received.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { cached, createCache as createCacheOf, type Cache, type CacheConfig, type Logger, type RedisStore } from '../../lib/index.js';
import { fakeClock } from '../helpers/fake-clock.js';
import { startRedis, waitUntil, type TestRedis } from '../helpers/redis-server.js';

let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  redis.thaw();
  await redis.stop();
});
beforeEach(async () => {
  await redis.admin.flushAll();
});
afterEach(async () => {
  // Closed here too, so a failed assertion never leaves a client reconnecting (jest would not exit).
  await Promise.all(caches.splice(0).map((cache) => cache.close()));
});

const caches: Cache[] = [];
function createCache(config: CacheConfig): Cache {
  const cache = createCacheOf(config);
  caches.push(cache);
  return cache;
}

function recordingLogger(): Logger & { kinds: string[] } {
  const kinds: string[] = [];
  const record = (fields: Record<string, unknown>): void => {
    kinds.push(String(fields.kind));
  };
  return { kinds, warn: record, error: record };
}

/** Calls of `command` the server has executed since the last CONFIG RESETSTAT. */
async function executed(command: string): Promise<number> {
  const stats = await redis.admin.info('commandstats');
  const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats);
  return match ? Number(match[1]) : 0;
}

describe('circuit breaker on a real Redis', () => {
  it('opens after 5 failures while Redis is frozen, sends nothing more, and a probe closes it after the thaw', async () => {
    const clock = fakeClock();
    const logger = recordingLogger();
    const cache = createCache({ store: { type: 'redis', url: redis.url, opTimeout: 100 }, clock, logger });
    let runs = 0;
    const getUser = cached(async (id: number) => ({ id, run: ++runs }), { cache, name: 'getUser', ttl: '1h' });
    await getUser(1); // stored
    await redis.admin.configResetStat();

    redis.freeze();
    const values: unknown[] = [];
    try {
      // Each miss sends a GET and a SET, each timing out: 5 failures take 3 calls; the 3rd call's write is skipped.
      for (let i = 0; i < 20; i++) values.push(await getUser(100 + i));
      expect(cache.health()).toEqual({ store: 'redis', state: 'open', consecutiveFailures: 5, openedAt: clock.now(), opens: 1, connection: 'reconnecting', ok: false });
    } finally {
      redis.thaw();
    }
    expect(values).toEqual(Array.from({ length: 20 }, (_, i) => ({ id: 100 + i, run: 2 + i })));
    expect(getUser.stats).toMatchObject({ misses: 21, errors: 5, skipped: 40 - 5 });
    expect(logger.kinds.filter((kind) => kind === 'breaker')).toEqual(['breaker']);

    // What the frozen server received (it runs the buffered commands once thawed): only the 5 that failed.
    await waitUntil(async () => (await executed('get')) + (await executed('set')) >= 5);
    expect({ get: await executed('get'), set: await executed('set') }).toEqual({ get: 3, set: 2 });

    // Redis answers again (on the connection the store opened anew when the breaker opened), but
    // the breaker stays open until the cool-down has passed …
    await waitUntil(() => (cache.store as RedisStore).client.isReady);
    expect(await getUser(1)).toEqual({ id: 1, run: 22 });
    expect(cache.health().state).toBe('open');
    clock.advance(2000);
    // … then one probe (this call's GET) finds it up and closes the breaker: a hit.
    expect(await getUser(1)).toEqual({ id: 1, run: 1 });
    expect(cache.health()).toEqual({ store: 'redis', state: 'closed', consecutiveFailures: 0, opens: 1, connection: 'ready', ok: true });
    expect(getUser.stats.hits).toBe(1);
    await cache.close();
  }, 20_000);

  it('opens while Redis is stopped, skips it without trying, and serves hits again after a restart', async () => {
    const clock = fakeClock();
    const cache = createCache({ store: { type: 'redis', url: redis.url }, clock, logger: recordingLogger() });
    const store = cache.store as RedisStore;
    let runs = 0;
    const getUser = cached(async (id: number) => ({ id, run: ++runs }), { cache, name: 'getUser', ttl: '1h' });
    await getUser(1);
    expect(await getUser(1)).toEqual({ id: 1, run: 1 });

    await redis.kill();
    for (let i = 0; i < 3; i++) await getUser(100 + i); // 2 failures per miss (read, write): open during the 3rd
    expect(cache.health()).toMatchObject({ state: 'open', consecutiveFailures: 5, opens: 1 });
    const before = { ...getUser.stats };
    const during = await Promise.allSettled(Array.from({ length: 32 }, (_, i) => getUser(200 + i)));
    expect(during.filter((r) => r.status === 'rejected')).toEqual([]);
    // Nothing was attempted: no new failure, every read and write skipped.
    expect(cache.health()).toMatchObject({ state: 'open', consecutiveFailures: 5 });
    expect(getUser.stats.errors).toBe(before.errors);
    expect(getUser.stats.skipped - before.skipped).toBe(64);

    await redis.start(); // same port, empty
    await waitUntil(() => store.client.isReady);
    expect(cache.health().state).toBe('open');
    clock.advance(2000);
    await getUser(7); // the probe (a GET, a miss on the empty server) closes it; the write goes through
    expect(cache.health()).toMatchObject({ state: 'closed', consecutiveFailures: 0, opens: 1 });
    const hits = getUser.stats.hits;
    expect(await getUser(7)).toEqual({ id: 7, run: runs });
    expect(getUser.stats.hits).toBe(hits + 1);
    expect(await redis.admin.exists(getUser.keyFor(7))).toBe(1);
    await cache.close();
  }, 20_000);

  it('opens again for another cool-down when the probe fails', async () => {
    const clock = fakeClock();
    const cache = createCache({ store: { type: 'redis', url: redis.url }, clock, logger: recordingLogger(), breaker: { threshold: 2, cooldown: '10s' } });
    const getUser = cached(async (id: number) => ({ id }), { cache, name: 'getUser' });
    await getUser(1);
    await redis.kill();
    try {
      await getUser(2); // read and write fail: open
      expect(cache.health()).toMatchObject({ state: 'open', opens: 1 });
      clock.advance(10_000);
      await getUser(3); // the probe (its read) fails at once, Redis is still down; its write is skipped
      expect(cache.health()).toEqual({ store: 'redis', state: 'open', consecutiveFailures: 3, openedAt: clock.now(), opens: 2, connection: 'reconnecting', ok: false });
      expect(getUser.stats).toMatchObject({ errors: 3, skipped: 1 });
    } finally {
      await redis.start();
    }
    await cache.close();
  }, 20_000);

  it('never opens with breaker: false; every failure is an error', async () => {
    const cache = createCache({ store: { type: 'redis', url: redis.url }, logger: recordingLogger(), breaker: false });
    const getUser = cached(async (id: number) => ({ id }), { cache, name: 'getUser' });
    await getUser(1);
    await redis.kill();
    try {
      for (let i = 0; i < 10; i++) await getUser(100 + i);
      expect(cache.health()).toEqual({ store: 'redis', state: 'closed', consecutiveFailures: 20, opens: 0, connection: 'reconnecting', ok: false });
      expect(getUser.stats).toMatchObject({ errors: 20, skipped: 0 });
    } finally {
      await redis.start();
    }
    await cache.close();
  }, 20_000);
});
