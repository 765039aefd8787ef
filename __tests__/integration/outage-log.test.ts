/**
 * The default (quiet) logger across two Redis outages on a real redis-server: one line when Redis
 * goes down, one when it is back (with the skipped operations, which stats.skipped counts too),
 * then the same again for the next outage. The cache's clock is moved by hand.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { cached, createCache, type RedisStore } from '../../lib/index.js';
import { fakeClock } from '../helpers/fake-clock.js';
import { startRedis, waitUntil, type TestRedis } from '../helpers/redis-server.js';

let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

const DOWN = /^cachette: redis connection error: \w*Error: .+ \(redis is down: further failures are counted in stats\.errors and stats\.skipped, not logged, until it is back\)$/;

describe('the default logger', () => {
  it('logs every outage and every recovery once, with the skipped operations stats.skipped counts', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const clock = fakeClock();
    const cache = createCache({ store: { type: 'redis', url: redis.url }, clock });
    try {
      const store = cache.store as RedisStore;
      let runs = 0;
      const getUser = cached(async (id: number) => ({ id, run: ++runs }), { cache, name: 'getUser', ttl: '1h' });
      await getUser(1);
      const lines = (): string[] => warn.mock.calls.map((call) => String(call[0]));

      for (const outage of [1, 2]) {
        const skippedBefore = getUser.stats.skipped;
        await redis.kill();
        for (let i = 0; i < 40; i++) await getUser(100 * outage + i); // 5 failures open the breaker, the rest skip Redis
        expect(cache.health().state).toBe('open');
        await redis.start();
        await waitUntil(() => store.client.isReady);
        clock.advance(3_000);
        await getUser(1); // the probe closes the breaker
        expect(cache.health()).toMatchObject({ state: 'closed', connection: 'ready' });
        const skipped = getUser.stats.skipped - skippedBefore;
        expect(skipped).toBeGreaterThan(60);
        const printed = lines().slice(2 * (outage - 1));
        expect(printed).toHaveLength(2);
        expect(printed[0]).toMatch(DOWN);
        expect(printed[1]).toBe(`cachette: redis is back after 3000 ms; ${skipped} operations skipped it meanwhile (counted in stats.skipped)`);
      }
    } finally {
      await cache.close();
      warn.mockRestore();
    }
  }, 20_000);
});
