/**
 * The two orderings a process-local tier can get wrong, forced with a TCP proxy in front of a real
 * redis-server (`helpers/tcp-proxy.ts`) so they happen every run instead of once in a million:
 *
 * 1. A read of the entry is answered by the server, another process then writes it, and the
 *    invalidation (on the tracking connection) reaches this process before the read's reply (on the
 *    data connection). The old value must not be kept in the tier.
 * 2. The tracking connection is cut and its replacement is not tracking yet; meanwhile a read fetches
 *    the entry and another process writes it (no invalidation can reach this process). Once tracking is
 *    back, the tier must not serve what that read fetched.
 *
 * The reader is a cache in this process, connected through the proxy; the writer is a cache without the
 * tier, connected to the server directly. States and counts only; every wait is a bounded poll.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { cached, createCache, type Cache, type Logger } from '../../lib/index.js';
import { waitFor } from '../helpers/redis-process.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startProxy, type ProxyConnection, type TcpProxy } from '../helpers/tcp-proxy.js';

const LIMIT_MS = 10_000;
const TRACKING_NAME = 'cachette-l1';

let redis: TestRedis;
let proxy: TcpProxy;
const caches: Cache[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
beforeEach(async () => {
  await redis.admin.flushAll();
  proxy = await startProxy(redis.port);
});
afterEach(async () => {
  proxy.release();
  await Promise.all(caches.splice(0).map((cache) => cache.close()));
  await proxy.close();
});

function recordingLogger(): Logger & { kinds: string[] } {
  const kinds: string[] = [];
  const record = (fields: Record<string, unknown>): void => void kinds.push(String(fields.kind));
  return { kinds, warn: record, error: record };
}

/** Turns of the event loop, so what has reached this process's sockets is handled. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A reader with the tier (through the proxy) and a writer without it (direct), one function each. */
async function pair() {
  let epoch = 0;
  const origin = async (id: number): Promise<{ id: number; epoch: number }> => ({ id, epoch });
  const readerCache = createCache({ store: { type: 'redis', url: proxy.url }, namespace: 'race', l1: { maxEntries: 100 }, clearPollInterval: '1h', logger: recordingLogger() });
  const writerCache = createCache({ store: { type: 'redis', url: redis.url }, namespace: 'race', clearPollInterval: '1h', logger: recordingLogger() });
  caches.push(readerCache, writerCache);
  const read = cached(origin, { cache: readerCache, name: 'item', ttl: '1h' });
  const write = cached(origin, { cache: writerCache, name: 'item', ttl: '1h' });
  await read(-1);
  await waitFor('the tier to be ready', async () => readerCache.health().l1?.state === 'ready', LIMIT_MS, 5);
  return {
    readerCache,
    read,
    write,
    setEpoch: (value: number) => void (epoch = value),
  };
}

/**
 * Call `read(id)` until a call is answered by the tier (bounded): a write's invalidation can reach the
 * reader after the writer's await returned (it crosses the proxy), and void the first fill.
 */
async function untilTierHit(read: ((id: number) => Promise<unknown>) & { stats: { l1Hits: number } }, id: number): Promise<void> {
  const before = read.stats.l1Hits;
  await waitFor(`a tier hit of ${id}`, async () => {
    await read(id);
    return read.stats.l1Hits > before;
  }, LIMIT_MS, 1);
}

const tracking = (): ProxyConnection[] => proxy.connections.filter((c) => c.named(TRACKING_NAME));

it('does not keep a value whose read was answered before a write whose invalidation arrived first', async () => {
  const { read, write, setEpoch, readerCache } = await pair();
  await write(1);
  // A second entry, held in the tier: its invalidation, sent after the first one's, shows when the
  // tier has handled both.
  await write(2);
  await untilTierHit(read, 2);
  const entries = readerCache.health().l1!.entries;

  // The read's reply is held in the proxy: the server answered { epoch: 0 }, this process has not seen it.
  proxy.hold((connection) => !connection.named(TRACKING_NAME));
  const pending = read(1);
  await waitFor('the read to be answered by the server', async () => proxy.connections.some((c) => !c.named(TRACKING_NAME) && c.heldBytes > 0), LIMIT_MS, 5);

  setEpoch(1);
  await write.refresh(1);
  await write.refresh(2);
  await waitFor('the tier to drop entry 2 (so it has handled entry 1\'s invalidation too)', async () => readerCache.health().l1!.entries < entries, LIMIT_MS, 5);
  proxy.release();
  expect(await pending).toEqual({ id: 1, epoch: 0 }); // started before the write: the old value is its answer
  // …and not kept: the tier holds neither entry now.
  expect(readerCache.health().l1!.entries).toBe(entries - 1);

  // The next calls started after the write: never the old value, from the tier or anywhere.
  const after = [await read(1), await read(1), await read(1)];
  expect(after.map((value) => value.epoch)).toEqual([1, 1, 1]);
}, 30_000);

it('does not serve from the tier what was read while the tracking connection was not tracking yet', async () => {
  const { read, write, setEpoch, readerCache } = await pair();
  await write(3);
  await untilTierHit(read, 3);
  const flushes = readerCache.health().l1!.flushes;

  // Cut the tracking connection; hold the requests of its replacement, so it connects but cannot
  // turn tracking on.
  const known = proxy.connections.length;
  proxy.hold((connection) => connection.named(TRACKING_NAME) || proxy.connections.indexOf(connection) >= known, 'requests');
  for (const connection of tracking()) connection.destroy();
  await waitFor('the tier to leave ready', async () => readerCache.health().l1!.state !== 'ready', LIMIT_MS, 5);
  expect(readerCache.health().l1!.flushes).toBeGreaterThan(flushes);

  // While it is not tracking: a read (from Redis: the tier is bypassed), then a write nobody hears of.
  expect(await read(3)).toEqual({ id: 3, epoch: 0 });
  setEpoch(1);
  await write.refresh(3);
  await turns(5);

  proxy.release();
  await waitFor('the tier to be ready again', async () => readerCache.health().l1!.state === 'ready', LIMIT_MS, 5);
  const after = [await read(3), await read(3), await read(3)];
  expect(after.map((value) => value.epoch)).toEqual([1, 1, 1]);
}, 30_000);
