/**
 * Stale serving on a real Redis: the physical TTL covers the stale window, the c2 envelope is what
 * redis-cli shows, and a failing origin is answered from a stale entry.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { CacheOriginTimeoutError, cached, createCache, originSignal, type Cache } from '../../lib/index.js';
import { startRedis, waitUntil, type TestRedis } from '../helpers/redis-server.js';

let redis: TestRedis;
let cache: Cache;
let now = 1_700_000_000_000;
const clock = { now: () => now };

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  await redis.admin.flushAll();
  cache = createCache({ store: { type: 'redis', url: redis.url }, clock, logger: { warn() {}, error() {} } });
});
afterEach(async () => {
  await cache.close();
});

describe('stale serving on Redis', () => {
  it('stores ttl + window as the Redis TTL and the c2 envelope', async () => {
    const f = cached(async (id: number) => ({ id }), { cache, name: 'f', ttl: '10s', staleWhileRevalidate: '50s', staleIfError: '20s' });
    await f(1);
    const pttl = await redis.admin.pTTL(f.keyFor(1));
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    expect(await redis.admin.get(f.keyFor(1))).toMatch(/^s2\|json\|1700000000000\|10000\|50000\|\d+\|[\w-]{8}\.[\w-]{8}\|\{"id":1\}$/);
  });

  it('serves a stale entry and replaces it in the background', async () => {
    let version = 0;
    const f = cached(async (id: number) => ({ id, version: ++version }), { cache, name: 'f', ttl: '10s', staleWhileRevalidate: '1m' });
    await f(1);
    now += 20_000;
    expect(await f(1)).toEqual({ id: 1, version: 1 });
    await waitUntil(async () => ((await redis.admin.get(f.keyFor(1))) ?? '').includes('"version":2'));
    expect(await f(1)).toEqual({ id: 1, version: 2 });
    expect(f.stats).toMatchObject({ stale: 1, hits: 1, misses: 1 });
  });

  it('answers from a stale entry when the origin fails', async () => {
    let failing = false;
    const f = cached(
      async (id: number) => {
        if (failing) throw new Error('origin down');
        return { id };
      },
      { cache, name: 'f', ttl: '10s', staleIfError: '1h' },
    );
    await f(1);
    now += 60_000;
    failing = true;
    expect(await f(1)).toEqual({ id: 1 });
    expect(f.stats.staleIfError).toBe(1);
  });

  it('keeps the stale window when a per-call ttl extends a live entry', async () => {
    const f = cached(async (id: number) => ({ id }), { cache, name: 'f', ttl: '10s', staleWhileRevalidate: '50s' });
    await f(1);
    await f(1, { ttl: '1m' });
    expect(await redis.admin.pTTL(f.keyFor(1))).toBeGreaterThan(60_000);
  });

  it('rejects a call past its hard timeout, stores the late answer, and fires the origin signal', async () => {
    let release!: (value: string) => void;
    let signal: AbortSignal | undefined;
    const f = cached(
      (id: number) => {
        signal = originSignal();
        return new Promise<string>((resolve) => (release = resolve)).then((v) => `${v}:${id}`);
      },
      { cache, name: 'slow', ttl: '1m', timeout: { hard: 50 } },
    );
    await expect(f(1)).rejects.toBeInstanceOf(CacheOriginTimeoutError);
    expect(signal?.aborted).toBe(true);
    release('late');
    await waitUntil(async () => (await redis.admin.exists(f.keyFor(1))) === 1);
    expect(await f(1)).toBe('late:1');
    expect(f.stats).toMatchObject({ timeouts: 1, hits: 1 });
  });

  it('lets one caller abort without disturbing another waiting for the same run', async () => {
    let release!: (value: string) => void;
    let runs = 0;
    const f = cached(
      (id: number) => {
        runs++;
        return new Promise<string>((resolve) => (release = resolve)).then((v) => `${v}:${id}`);
      },
      { cache, name: 'shared', ttl: '1m' },
    );
    const controller = new AbortController();
    const leaving = f(1, { signal: controller.signal });
    const staying = f(1);
    await waitUntil(() => runs === 1 && f.stats.misses === 2);
    controller.abort();
    await expect(leaving).rejects.toMatchObject({ name: 'AbortError' });
    release('v');
    expect(await staying).toBe('v:1');
    expect(runs).toBe(1);
  });
});
