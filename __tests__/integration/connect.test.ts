/**
 * cache.connect() and cache.health().connection on real servers: connect() resolves once Redis
 * answers, or rejects with a CacheStoreError that says why (without the password); calls fail open
 * whether or not it was called.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import { CacheStoreError, cached, createCache, MemoryStore, type CacheConfig, type Logger } from '../../lib/index.js';
import { findSecret } from '../helpers/secrets.js';
import { startRedis, startRedisWith, type TestRedis } from '../helpers/redis-server.js';

const PASSWORD = 'connect-Pw-93be1f0c';
let redis: TestRedis;
let guarded: Awaited<ReturnType<typeof startRedisWith>>;

beforeAll(async () => {
  redis = await startRedis();
  guarded = await startRedisWith(['--requirepass', PASSWORD]);
});
afterAll(async () => {
  await guarded.stop();
  await redis.stop();
});

const quiet: Logger = { warn() {}, error() {} };

/** A TCP port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** connect() on a cache with `store`, and what it rejected with. */
async function failedConnect(store: NonNullable<CacheConfig['store']>): Promise<CacheStoreError> {
  const cache = createCache({ store, logger: quiet });
  const error = await cache.connect().then(
    () => undefined,
    (e: unknown) => e,
  );
  // Calls fail open whether or not connect() succeeded.
  const f = cached(async (id: number) => id + 1, { cache, name: 'f' });
  expect(await f(1)).toBe(2);
  await cache.close();
  expect(error).toBeInstanceOf(CacheStoreError);
  return error as CacheStoreError;
}

describe('cache.connect()', () => {
  it('opens the connection now and resolves once Redis answers', async () => {
    const cache = createCache({ store: { type: 'redis', url: redis.url }, logger: quiet });
    expect(cache.health()).toEqual({ store: 'redis', state: 'closed', consecutiveFailures: 0, opens: 0, connection: 'idle', ok: false });
    await cache.connect();
    expect(cache.health().connection).toBe('ready');
    await cache.connect(); // again: resolves at once
    await cache.close();
    expect(cache.health().connection).toBe('closed');
  });

  it('rejects on a wrong password, saying so, without the password', async () => {
    const wrong = `${PASSWORD}-wrong`;
    const error = await failedConnect({ type: 'redis', url: `redis://:${wrong}@${guarded.host}:${guarded.port}` });
    expect(error.message).toBe('cachette: could not connect to redis: wrong password or user (WRONGPASS)');
    expect(findSecret(error, wrong)).toEqual([]);
  });

  it('rejects without a password where one is required (NOAUTH)', async () => {
    const error = await failedConnect({ type: 'redis', host: guarded.host, port: guarded.port });
    expect(error.message).toBe('cachette: could not connect to redis: authentication required: no password given (NOAUTH)');
  });

  it('rejects on a refused connection', async () => {
    const error = await failedConnect({ type: 'redis', host: '127.0.0.1', port: await closedPort() });
    expect(error.message).toBe('cachette: could not connect to redis: connection refused (ECONNREFUSED)');
  });

  it('rejects on an unknown host', async () => {
    const error = await failedConnect({ type: 'redis', host: 'no-such-host.invalid' });
    expect(error.message).toMatch(/^cachette: could not connect to redis: unknown host \((ENOTFOUND|EAI_AGAIN)\)$/);
  });

  it('rejects on a database index out of range', async () => {
    const error = await failedConnect({ type: 'redis', url: `${redis.url}/99` });
    expect(error.message).toBe('cachette: could not connect to redis: database index out of range (SELECT refused)');
  });

  it('resolves at once for the memory store and a store of your own without connect()', async () => {
    await createCache().connect();
    const store = new MemoryStore();
    const mine = createCache({ store });
    await mine.connect();
    expect(mine.health()).toMatchObject({ store: 'memory', connection: 'ready' });
    await mine.close();
    expect(mine.health().connection).toBe('closed');
  });

  it('calls a store’s own connect()', async () => {
    let connected = 0;
    const store = Object.assign(new MemoryStore(), {
      async connect() {
        connected++;
      },
    });
    await createCache({ store }).connect();
    expect(connected).toBe(1);
  });
});
