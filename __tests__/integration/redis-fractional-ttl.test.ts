/**
 * Fractional TTLs on Redis: `PX` takes a whole number of milliseconds, so a TTL of 1.5 ms is sent as
 * `PX 2` (rounded up, never down to an earlier expiry, never to 0). What Redis receives is read from
 * `MONITOR`, and what it keeps from `PTTL`; nothing sleeps.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { cached, createCache, type Cache } from '../../lib/index.js';
import { startRedis, waitUntil, type TestRedis } from '../helpers/redis-server.js';

let redis: TestRedis;
let cache: Cache;
let monitor: ReturnType<TestRedis['admin']['duplicate']>;
let seen: string[] = [];

beforeAll(async () => {
  redis = await startRedis();
  monitor = redis.admin.duplicate();
  monitor.on('error', () => {});
  await monitor.connect();
  await monitor.monitor((line: string) => void seen.push(line));
});
afterAll(async () => {
  monitor.destroy();
  await redis.stop();
});
beforeEach(async () => {
  await redis.admin.flushAll();
  seen = [];
  cache = createCache({ store: { type: 'redis', url: redis.url }, logger: { warn() {}, error() {} } });
});
afterEach(async () => {
  await cache.close();
});

/** The commands Redis received since the test began that touch `key`, as their quoted arguments. */
async function commandsOn(key: string): Promise<string[]> {
  const marker = `marker-${Date.now()}-${Math.random()}`;
  await redis.admin.echo(marker);
  await waitUntil(() => seen.some((line) => line.includes(marker)));
  return seen
    .filter((line) => line.includes(`"${key}"`))
    .map((line) => line.slice(line.indexOf('"')))
    .map((args) => args.replace(/^("SET" "[^"]*") ".*?" ("PX"|$)/, '$1 … $2').trim());
}

describe('a fractional per-call ttl', () => {
  it('is written as PX rounded up on a miss: ttl 1.5 → PX 2', async () => {
    const f = cached(async (id: number) => ({ id }), { cache, name: 'f', ttl: '1m' });
    expect(await f(1, { ttl: 1.5 })).toEqual({ id: 1 });
    const key = f.keyFor(1);
    // The read would have extended a live entry by the same ttl; there is none, so the write follows.
    expect(await commandsOn(key)).toEqual([`"GETEX" "${key}" "PX" "2"`, `"SET" "${key}" … "PX" "2"`]);
    expect(f.stats.errors).toBe(0);
  });

  it('extends a hit with PX rounded up, not to the nearest: ttl 1.2 → GETEX PX 2', async () => {
    const f = cached(async (id: number) => ({ id }), { cache, name: 'f', ttl: '1m' });
    await f(1);
    expect(await f(1, { ttl: 1.2 })).toEqual({ id: 1 });
    const commands = await commandsOn(f.keyFor(1));
    expect(commands.at(-1)).toBe(`"GETEX" "${f.keyFor(1)}" "PX" "2"`);
    expect(f.stats).toMatchObject({ hits: 1, errors: 0 });
  });

  it('keeps the stale window whole when it extends: ttl 1.5 + 1 min → PTTL of at most 60,002', async () => {
    const f = cached(async (id: number) => ({ id }), { cache, name: 'f', ttl: '10m', staleWhileRevalidate: '1m' });
    await f(1);
    expect(await redis.admin.pTTL(f.keyFor(1))).toBeGreaterThan(60_002); // 11 min as stored
    expect(await f(1, { ttl: 1.5 })).toEqual({ id: 1 });
    const pttl = await redis.admin.pTTL(f.keyFor(1));
    expect(pttl).toBeLessThanOrEqual(60_002);
    expect(pttl).toBeGreaterThan(50_000);
    expect(f.stats).toMatchObject({ hits: 1, errors: 0 });
  });
});
