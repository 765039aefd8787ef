/**
 * Cache-layer failures never fail a call: real redis-server processes are stopped, frozen and
 * restarted under cachette, and every call still answers from the origin. No timing assertions: a
 * call that waited for a dead Redis would hit the 60 s operation timeout configured here and blow
 * the test's own timeout instead.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createServer, type AddressInfo } from 'node:net';
import { createClient } from 'redis';
import { cached, createCache, type Logger } from '../../lib/index.js';
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

/** A logger that keeps everything it is given. */
function recordingLogger(): Logger & { lines: Array<{ fields: Record<string, unknown>; message: string }> } {
  const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
  const record = (fields: Record<string, unknown>, message: string): void => {
    lines.push({ fields, message });
  };
  return { lines, warn: record, error: record };
}

/** A port on 127.0.0.1 that nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('when Redis fails', () => {
  it('answers every call from the origin against a dead port, without waiting for Redis', async () => {
    const port = await deadPort();
    const logger = recordingLogger();
    const cache = createCache({ store: { type: 'redis', host: '127.0.0.1', port, opTimeout: '60s' }, logger });
    let runs = 0;
    const getUser = cached(async (id: number) => ({ id, run: ++runs }), { cache, name: 'getUser', ttl: '1m' });
    for (let i = 1; i <= 5; i++) expect(await getUser(1)).toEqual({ id: 1, run: i });
    expect(getUser.stats).toMatchObject({ misses: 5, hits: 0 });
    // Each call's failures are counted: as errors until the breaker opens, then as skips.
    expect(getUser.stats.errors).toBeGreaterThanOrEqual(2);
    expect(getUser.stats.errors + getUser.stats.skipped).toBeGreaterThanOrEqual(10);
    expect(logger.lines.some((line) => line.fields.kind === 'read')).toBe(true);
    await cache.close();
  }, 10_000);

  it('keeps answering while Redis is stopped mid-test and serves hits again once it is back', async () => {
    const cache = createCache({ store: { type: 'redis', url: redis.url }, logger: recordingLogger() });
    let runs = 0;
    const getUser = cached(async (id: number) => ({ id, run: ++runs }), { cache, name: 'getUser', ttl: '1m' });
    expect(await getUser(1)).toEqual({ id: 1, run: 1 });
    expect(await getUser(1)).toEqual({ id: 1, run: 1 });

    await redis.kill();
    const during = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => getUser(100 + i)));
    expect(during.filter((r) => r.status === 'rejected')).toEqual([]);
    for (let i = 0; i < 5; i++) await expect(getUser(1)).resolves.toMatchObject({ id: 1 });
    expect(getUser.stats.errors).toBeGreaterThan(0);

    await redis.start(); // same port, empty (no persistence)
    await waitUntil(async () => {
      const before = getUser.stats.hits;
      await getUser(2);
      await getUser(2);
      return getUser.stats.hits > before;
    });
    expect(await redis.admin.exists(getUser.keyFor(2))).toBe(1);
    await cache.close();
  }, 20_000);

  it('times out on a frozen Redis, answers from the origin, and recovers when it thaws', async () => {
    const cache = createCache({ store: { type: 'redis', url: redis.url, opTimeout: 200 }, logger: recordingLogger() });
    let runs = 0;
    const getUser = cached(async (id: number) => ({ id, run: ++runs }), { cache, name: 'getUser', ttl: '1m' });
    await getUser(1);
    redis.freeze();
    try {
      const during = await Promise.allSettled(Array.from({ length: 10 }, () => getUser(1)));
      expect(during.every((r) => r.status === 'fulfilled')).toBe(true);
      expect(getUser.stats.errors).toBeGreaterThanOrEqual(1);
    } finally {
      redis.thaw();
    }
    await waitUntil(async () => {
      const before = getUser.stats.hits;
      await getUser(1);
      return getUser.stats.hits > before;
    });
    await cache.close();
  }, 20_000);

  it('tracks background writes that fail, without unhandled rejections', async () => {
    const port = await deadPort();
    const cache = createCache({ store: { type: 'redis', host: '127.0.0.1', port }, logger: recordingLogger() });
    const getUser = cached(async (id: number) => ({ id }), { cache, name: 'getUser', waitForWrite: false });
    await Promise.all([getUser(1), getUser(2), getUser(3, { waitForWrite: false })]);
    await cache.close();
    expect(cache.pendingWrites).toBe(0);
    expect(getUser.stats.errors).toBeGreaterThanOrEqual(3);
  }, 10_000);

  it('never puts cached values or arguments into log messages', async () => {
    const secret = 'hunter2-secret-value';
    const logger = recordingLogger();
    const cache = createCache({ store: { type: 'redis', url: redis.url }, logger });
    const lookup = cached(async (token: string) => ({ token, secret }), { cache, name: 'lookup' });
    await redis.admin.set(lookup.keyFor(secret), `c1|json|1||{"token":"${secret}",`); // corrupt entry
    await lookup(secret);
    await redis.kill();
    try {
      await lookup(secret);
      await lookup(secret, { forceRefresh: true });
    } finally {
      await redis.start();
    }
    expect(logger.lines.length).toBeGreaterThanOrEqual(2);
    for (const line of logger.lines) {
      const err = line.fields.err as Error & { cause?: Error };
      const text = [line.message, JSON.stringify(line.fields), err?.message, err?.cause?.message].join(' ');
      expect(text).not.toContain(secret);
    }
    await cache.close();
  }, 20_000);
});

describe('with your own node-redis client', () => {
  it('connects a client that is not connected yet, and never closes it', async () => {
    const client = createClient({ url: redis.url });
    client.on('error', () => {});
    const cache = createCache({ store: { type: 'redis', client } });
    const getUser = cached(async (id: number) => ({ id }), { cache, name: 'getUser' });
    await getUser(1);
    await getUser(1);
    expect(getUser.stats).toMatchObject({ hits: 1, misses: 1, errors: 0 });
    await cache.close();
    expect(client.isOpen).toBe(true);
    expect(await client.get(getUser.keyFor(1))).toContain('"id":1');
    await client.close();
  });

  it('works with a client that is already connected', async () => {
    const client = createClient({ url: redis.url });
    await client.connect();
    const cache = createCache({ store: { type: 'redis', client }, namespace: 'byo' });
    const getUser = cached(async (id: number) => ({ id }), { cache, name: 'getUser' });
    await getUser(1);
    await getUser(1);
    expect(getUser.stats).toMatchObject({ hits: 1, misses: 1, errors: 0 });
    await cache.close();
    expect(client.isReady).toBe(true);
    await client.close();
  });
});
