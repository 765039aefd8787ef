/**
 * Offline behaviour of the Redis store on real servers: while the client reconnects, operations
 * fail at once instead of queueing; reconnection happens in the background, with no call driving
 * it; when Redis returns, hits resume without a restart. The operation timeout is 60 s and the
 * breaker is off, so an operation that waited for Redis would blow the test's own timeout: no
 * timing assertions are needed to tell "failed fast" from "queued".
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { createClient } from 'redis';
import { cached, createCache as createCacheOf, type Cache, type CacheConfig, type RedisStore } from '../../lib/index.js';
import { fakeClock } from '../helpers/fake-clock.js';
import { findRedisServer, startRedis, waitUntil, type TestRedis } from '../helpers/redis-server.js';

let redis: TestRedis;

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
  await Promise.all(caches.splice(0).map((cache) => cache.close()));
});

const caches: Cache[] = [];
function createCache(config: CacheConfig): Cache {
  const cache = createCacheOf({ logger: { warn() {}, error() {} }, breaker: false, ...config });
  caches.push(cache);
  return cache;
}

/**
 * A redis-server on `port`, spawned directly: redis-memory-server first probes the port by listening
 * on it, and a client retrying at that moment would connect to the probe instead.
 */
async function redisOn(port: number): Promise<ChildProcess> {
  // A listener closed just before may still hold the port for a moment: then redis-server exits, and we try again.
  for (let attempt = 0; attempt < 50; attempt++) {
    const child = spawn(findRedisServer(), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const exited = new Promise<false>((resolve) => child.once('exit', () => resolve(false)));
    const ping = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: 25 } });
    ping.on('error', () => {});
    const up = await Promise.race([ping.connect().then(() => true), exited]);
    ping.destroy();
    if (up) return child;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server could not listen on port ${port}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('while Redis is away', () => {
  it('fails every operation at once (nothing queued) and reconnects in the background', async () => {
    const cache = createCache({ store: { type: 'redis', url: redis.url, opTimeout: '60s' } });
    const store = cache.store as RedisStore;
    let runs = 0;
    const getUser = cached(async (id: number) => ({ id, run: ++runs }), { cache, name: 'getUser', ttl: '1h' });
    await getUser(1);

    await redis.kill();
    const during = await Promise.all(Array.from({ length: 50 }, (_, i) => getUser(i % 5)));
    expect(during.map((user) => user.id)).toEqual(Array.from({ length: 50 }, (_, i) => i % 5));
    expect(store.pendingOperations).toBe(0);
    expect(getUser.stats.errors).toBeGreaterThanOrEqual(50);

    await redis.start(); // empty: no persistence
    // No call is made meanwhile: the client comes back on its own.
    await waitUntil(() => store.client.isReady);
    await getUser(1); // a miss on the empty server, stored
    const errors = getUser.stats.errors;
    expect(await getUser(1)).toEqual({ id: 1, run: runs });
    expect(getUser.stats).toMatchObject({ errors });
    expect(getUser.stats.hits).toBe(1);
  }, 20_000);

  it('does the same with your own client, even one that keeps an offline queue', async () => {
    const client = createClient({ url: redis.url, socket: { reconnectStrategy: 50 } }); // offline queue on (the default)
    client.on('error', () => {});
    await client.connect();
    const cache = createCache({ store: { type: 'redis', client, opTimeout: '60s' } });
    const store = cache.store as RedisStore;
    const getUser = cached(async (id: number) => ({ id }), { cache, name: 'getUser', ttl: '1h' });
    await getUser(1);

    await redis.kill();
    await Promise.all(Array.from({ length: 20 }, (_, i) => getUser(i)));
    expect(store.pendingOperations).toBe(0);

    await redis.start();
    await waitUntil(() => client.isReady);
    await getUser(1);
    await getUser(1);
    expect(getUser.stats.hits).toBe(1);
    await client.close();
  }, 20_000);

  it('starts without Redis and serves hits once a server appears on its port, without a restart', async () => {
    const port = await freePort();
    const cache = createCache({ store: { type: 'redis', host: '127.0.0.1', port, opTimeout: '60s' } });
    const store = cache.store as RedisStore;
    const getUser = cached(async (id: number) => ({ id }), { cache, name: 'getUser', ttl: '1h' });
    for (let i = 0; i < 10; i++) expect(await getUser(1)).toEqual({ id: 1 });
    expect(getUser.stats).toMatchObject({ hits: 0, misses: 10 });

    const late = await redisOn(port);
    try {
      await waitUntil(() => store.client.isReady);
      await getUser(1);
      await getUser(1);
      expect(getUser.stats.hits).toBe(1);
    } finally {
      await cache.close();
      await stop(late);
    }
  }, 20_000);

  it('closes while Redis is frozen, with a call in flight: close() does not wait for replies that never come', async () => {
    const cache = createCache({ store: { type: 'redis', url: redis.url, opTimeout: 200 } });
    const getUser = cached(async (id: number) => ({ id }), { cache, name: 'getUser', ttl: '1h' });
    await getUser(1); // connected
    redis.freeze();
    try {
      const inFlight = getUser(2); // its read and then its write time out; the replies stay owed
      await expect(inFlight).resolves.toEqual({ id: 2 });
      await cache.close(); // graceful close would wait for those replies; it gives up after opTimeout
      expect((cache.store as RedisStore).client.isOpen).toBe(false);
    } finally {
      redis.thaw();
    }
  }, 20_000);

  it('gets away from a peer that accepted the connection and never answers, once the breaker opens', async () => {
    // A hung proxy: accepts connections, never answers, never closes them.
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const clock = fakeClock();
    const cache = createCache({ store: { type: 'redis', host: '127.0.0.1', port, opTimeout: 200 }, clock, breaker: true });
    const store = cache.store as RedisStore;
    const getUser = cached(async (id: number) => ({ id }), { cache, name: 'getUser', ttl: '1h' });
    let real: ChildProcess | undefined;
    try {
      for (let i = 0; i < 3; i++) expect(await getUser(i)).toEqual({ id: i }); // the first waits 200 ms, then all fail fast
      expect(cache.health()).toMatchObject({ state: 'open', opens: 1 });
      await waitUntil(() => held.length === 2); // opening the breaker reconnected: to the same silent peer

      // The proxy comes right: a real server takes the port. The client still holds a silent socket
      // (node-redis only reconnects when a socket closes) …
      silent.close(); // stops listening at once ('close' itself waits for the held sockets)
      real = await redisOn(port);
      // … until the probe fails (at once, or after the operation timeout) and opens the breaker
      // again, and the store reconnects.
      clock.advance(2000);
      expect(await getUser(1)).toEqual({ id: 1 });
      expect(cache.health()).toMatchObject({ state: 'open', opens: 2 });
      await waitUntil(() => store.client.isReady);
      clock.advance(2000);
      await getUser(1); // the probe: a miss, stored
      expect(cache.health()).toMatchObject({ state: 'closed', opens: 2 });
      await getUser(1);
      expect(getUser.stats.hits).toBe(1);
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
      await cache.close();
      if (real) await stop(real);
    }
  }, 20_000);
});
