/**
 * The in-process tier (`l1`) on a real Redis, with two caches in this process standing for two
 * processes (each has its own tracking connection, and its own tier): what one does, the other's
 * tier drops; what the tier holds never outlives the Redis TTL or `l1.ttl`; a cut tracking
 * connection empties the tier and bypasses it until it is back.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { CacheConfigError, cached, createCache, type Cache, type CacheConfig } from '../../lib/index.js';
import { fakeClock, type FakeClock } from '../helpers/fake-clock.js';
import { startRedis, waitUntil, type TestRedis } from '../helpers/redis-server.js';

let redis: TestRedis;
const opened: Cache[] = [];
const warnings: Array<{ kind: unknown; message: string }> = [];
const logger = { warn: (fields: { kind?: unknown }, message: string) => void warnings.push({ kind: fields.kind, message }), error() {} };

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  await redis.admin.flushAll();
  warnings.length = 0;
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()));
});

/** A cache with a tier on the test server, ready (its tracking connection up) before it is used. */
async function tiered(extra: Partial<CacheConfig> = {}, l1: NonNullable<CacheConfig['l1']> = { maxEntries: 1000 }): Promise<Cache> {
  const cache = createCache({ store: { type: 'redis', url: redis.url }, namespace: 'tier', logger, ...extra, l1 });
  opened.push(cache);
  await waitUntil(() => cache.health().l1?.state === 'ready');
  return cache;
}

/** Call `f(...args)` until the tier served it (its `l1Hits` grew); returns the value served. */
async function untilHeld<A extends unknown[], T>(f: { (...args: A): Promise<T>; stats: { l1Hits: number } }, ...args: A): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const before = f.stats.l1Hits;
    const value = await f(...args);
    if (f.stats.l1Hits > before) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the tier never served the call');
}

/** Call until the value is not `old` any more (bounded); returns how many calls still served `old`. */
async function untilChanged<T>(call: () => Promise<T>, isOld: (value: T) => boolean): Promise<number> {
  let served = 0;
  for (let i = 0; i < 400; i++) {
    if (!isOld(await call())) return served;
    served++;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('the old value was still served');
}

/** The ids of this server's `cachette-l1` connections. */
async function trackingConnections(): Promise<string[]> {
  const list = await redis.admin.sendCommand(['CLIENT', 'LIST']);
  return String(list)
    .split('\n')
    .filter((line) => / name=cachette-l1 /.test(line))
    .map((line) => /id=(\d+)/.exec(line)?.[1] as string);
}

describe('l1 options', () => {
  it('refuses l1 without a Redis store, naming the field', () => {
    expect(() => createCache({ l1: { maxEntries: 10 } })).toThrow(CacheConfigError);
    expect(() => createCache({ store: { type: 'memory' }, l1: { maxEntries: 10 } })).toThrow(/l1: needs a Redis store/);
  });

  it('refuses l1 on a cluster with useReplicas when entries are read as bytes (fills must read masters)', () => {
    const store = { type: 'redis' as const, cluster: { rootNodes: [{ url: 'redis://127.0.0.1:1' }], useReplicas: true } };
    expect(() => createCache({ store, serializer: 'msgpack', l1: { maxEntries: 10 } })).toThrow(/l1: .*useReplicas/);
    expect(() => createCache({ store, compression: { threshold: 1024 }, l1: { maxEntries: 10 } })).toThrow(CacheConfigError);
    const text = createCache({ store, l1: { maxEntries: 10 }, logger });
    opened.push(text);
  });

  it('validates every field of l1 with a message that names it', () => {
    const store = { type: 'redis' as const, url: 'redis://127.0.0.1:1' };
    expect(() => createCache({ store, l1: {} as never })).toThrow(/l1\.maxEntries/);
    expect(() => createCache({ store, l1: { maxEntries: 0 } })).toThrow(/l1\.maxEntries/);
    expect(() => createCache({ store, l1: { maxEntries: 5, maxBytes: -1 } })).toThrow(/l1\.maxBytes/);
    expect(() => createCache({ store, l1: { maxEntries: 5, ttl: 'soon' as never } })).toThrow(/l1\.ttl/);
    expect(() => createCache({ store, l1: { maxEntries: 5, values: 'cloned' as never } })).toThrow(/l1\.values/);
    expect(() => createCache({ store, l1: { maxEntries: 5, size: 3 } as never })).toThrow(/l1/);
  });
});

describe('the tier on standalone Redis', () => {
  it('serves hits from the process after one read from Redis, counted in l1Hits', async () => {
    const cache = await tiered();
    let runs = 0;
    const f = cached(async (id: number) => ({ id, run: ++runs }), { cache, name: 'f', ttl: '1m' });
    const first = await f(1);
    const held = await untilHeld(f, 1);
    expect(held).toEqual(first);
    const commands = Number(/cmdstat_get:calls=(\d+)/.exec(await redis.admin.info('commandstats'))?.[1] ?? 0);
    for (let i = 0; i < 50; i++) expect(await f(1)).toBe(held); // 'shared': the one decoded object
    expect(Number(/cmdstat_get:calls=(\d+)/.exec(await redis.admin.info('commandstats'))?.[1] ?? 0)).toBe(commands);
    expect(runs).toBe(1);
    expect(f.stats.l1Hits).toBeGreaterThanOrEqual(51);
    expect(f.stats.hits).toBeGreaterThanOrEqual(f.stats.l1Hits);
    expect(cache.health().l1).toMatchObject({ state: 'ready', entries: 1 });
  });

  it("hands out frozen values with values: 'frozen', and a private copy per hit with 'copied'", async () => {
    const frozen = await tiered({}, { maxEntries: 10, values: 'frozen' });
    const f = cached(async (id: number) => ({ id, tags: ['a'] }), { cache: frozen, name: 'f', ttl: '1m' });
    await f(1);
    const value = await untilHeld(f, 1);
    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(value.tags)).toBe(true);
    expect(() => value.tags.push('b')).toThrow(TypeError);

    const copied = await tiered({}, { maxEntries: 10, values: 'copied' });
    const g = cached(async (id: number) => ({ id, tags: ['a'] }), { cache: copied, name: 'g', ttl: '1m' });
    await g(1);
    const mine = await untilHeld(g, 1);
    mine.tags.push('mutated');
    const next = await untilHeld(g, 1);
    expect(next).toEqual({ id: 1, tags: ['a'] });
    expect(next).not.toBe(mine);
  });

  it('drops the copy in the other process on a write, refresh, invalidate, tag invalidation and clear', async () => {
    const a = await tiered();
    const b = await tiered();
    let version = 0;
    const load = async (id: number) => ({ id, version: ++version });
    const fa = cached(load, { cache: a, name: 'user', ttl: '1m', tags: (id: number) => [`user:${id}`] });
    const fb = cached(load, { cache: b, name: 'user', ttl: '1m', tags: (id: number) => [`user:${id}`] });
    await fa(1);
    const v1 = await untilHeld(fb, 1);

    await fa.refresh(1); // a write in A
    expect(await untilChanged(() => fb(1), (value) => value.version === v1.version)).toBeLessThan(400);
    const v2 = await untilHeld(fb, 1);
    expect(v2.version).toBeGreaterThan(v1.version);

    await fa.invalidate(1);
    expect(await untilChanged(() => fb(1), (value) => value.version === v2.version)).toBeLessThan(400);
    const v3 = await untilHeld(fb, 1);

    await a.invalidateTags(['user:1']);
    expect(await untilChanged(() => fb(1), (value) => value.version === v3.version)).toBeLessThan(400);
    const v4 = await untilHeld(fb, 1);

    await a.clear();
    expect(await untilChanged(() => fb(1), (value) => value.version === v4.version)).toBeLessThan(400);
    expect(fb.stats.errors).toBe(0);
  });

  it('drops its own copy at once when this process writes or invalidates', async () => {
    const cache = await tiered();
    let version = 0;
    const f = cached(async () => ({ version: ++version }), { cache, name: 'own', ttl: '1m' });
    await f();
    await untilHeld(f);
    await f.invalidate();
    expect((await f()).version).toBe(2); // no wait: the next call misses
    await untilHeld(f);
    await f({ forceRefresh: true });
    expect((await f()).version).toBe(3);
    await untilHeld(f);
    await cache.invalidateTags(['nothing']); // an unrelated tag changes nothing
    expect((await f()).version).toBe(3);
  });

  it('never holds an entry past its Redis TTL, nor past l1.ttl', async () => {
    const clock: FakeClock = fakeClock();
    const cache = await tiered({ clock }, { maxEntries: 10 });
    const f = cached(async (id: number) => ({ id }), { cache, name: 'ttl', ttl: '10s' });
    await f(1);
    await untilHeld(f, 1);
    clock.advance(10_001); // past the PTTL Redis answered (the key itself is still in Redis: real time did not pass)
    const before = f.stats.l1Hits;
    await f(1);
    expect(f.stats.l1Hits).toBe(before);

    const bounded = await tiered({ clock }, { maxEntries: 10, ttl: '2s' });
    const g = cached(async (id: number) => ({ id }), { cache: bounded, name: 'bounded', ttl: '1h' });
    await g(1);
    await untilHeld(g, 1);
    clock.advance(1_999);
    await untilHeld(g, 1);
    clock.advance(2);
    const held = g.stats.l1Hits;
    await g(1);
    expect(g.stats.l1Hits).toBe(held);
    expect(g.stats.hits).toBeGreaterThan(held);
  });

  it('keeps stale serving: past its ttl an entry is not served by the tier but stale from Redis while one refresh runs', async () => {
    const clock: FakeClock = fakeClock();
    const cache = await tiered({ clock });
    let runs = 0;
    const f = cached(async (id: number) => ({ id, run: ++runs }), { cache, name: 'swr', ttl: '10s', staleWhileRevalidate: '1m' });
    await f(1);
    await untilHeld(f, 1);
    clock.advance(10_001);
    const l1Hits = f.stats.l1Hits;
    expect((await f(1)).run).toBe(1); // the stale value, at once
    expect(f.stats).toMatchObject({ stale: 1, l1Hits });
    await waitUntil(() => runs === 2 && cache.pendingWrites === 0);
    await waitUntil(async () => (await f(1)).run === 2);
    expect((await untilHeld(f, 1)).run).toBe(2);
  });

  it('extends the entry in Redis for a tier hit with a per-call ttl, in the background', async () => {
    const cache = await tiered();
    const f = cached(async (id: number) => ({ id }), { cache, name: 'sliding', ttl: '10s' });
    await f(1);
    await untilHeld(f, 1);
    const before = f.stats.l1Hits;
    await f(1, { ttl: '1h' });
    expect(f.stats.l1Hits).toBe(before + 1);
    await waitUntil(async () => (await redis.admin.pTTL(f.keyFor(1))) > 10_000);
    expect(await redis.admin.pTTL(f.keyFor(1))).toBeGreaterThan(3_000_000);
    // Sent on the tracking connection with NOLOOP: this process keeps its copy.
    await untilHeld(f, 1);
  });

  it('skips the tier for bypassCache, forceRefresh and cacheRead: false', async () => {
    const cache = await tiered();
    let runs = 0;
    const f = cached(async () => ++runs, { cache, name: 'skip', ttl: '1m' });
    await f();
    await untilHeld(f);
    const held = f.stats.l1Hits;
    expect(await f({ bypassCache: true })).toBe(2);
    expect(await f({ cacheRead: false, cacheWrite: false })).toBe(3);
    expect(await f({ forceRefresh: true })).toBe(4);
    expect(f.stats.l1Hits).toBe(held);
  });

  it('does not use the tier for a function under another namespace (outside the watch)', async () => {
    const cache = await tiered();
    const f = cached(async () => 1, { cache, name: 'elsewhere', namespace: 'other', ttl: '1m' });
    for (let i = 0; i < 20; i++) await f();
    expect(f.stats).toMatchObject({ hits: 19, l1Hits: 0 });
  });

  it('empties and bypasses the tier while its tracking connection is cut, and serves no stale value', async () => {
    const a = await tiered();
    const b = await tiered();
    let version = 0;
    const load = async (id: number) => ({ id, version: ++version });
    const fa = cached(load, { cache: a, name: 'cut', ttl: '1m' });
    const fb = cached(load, { cache: b, name: 'cut', ttl: '1m' });
    await fa(1);
    const old = await untilHeld(fb, 1);
    const flushes = b.health().l1?.flushes as number;
    // Cut every tracking connection: both caches' (each must notice its own).
    const ids = await trackingConnections();
    expect(ids.length).toBe(2);
    for (const id of ids) await redis.admin.sendCommand(['CLIENT', 'KILL', 'ID', id]);
    await waitUntil(() => (b.health().l1?.flushes as number) > flushes);
    await fa.refresh(1);
    // From the write on, b never serves the old value, from either tier.
    for (let i = 0; i < 50; i++) expect((await fb(1)).version).not.toBe(old.version);
    await waitUntil(() => b.health().l1?.state === 'ready');
    const fresh = await untilHeld(fb, 1);
    expect(fresh.version).toBeGreaterThan(old.version);
    expect(warnings.some((w) => w.kind === 'l1')).toBe(true);
    expect(warnings.every((w) => !/password/i.test(w.message))).toBe(true);
  });

  it('empties the tier on FLUSHALL', async () => {
    const cache = await tiered();
    let runs = 0;
    const f = cached(async () => ++runs, { cache, name: 'flushall', ttl: '1m' });
    await f();
    await untilHeld(f);
    await redis.admin.flushAll();
    await waitUntil(() => cache.health().l1?.entries === 0);
    expect(await f()).toBe(2);
  });

  it('bounds what it holds by l1.maxEntries and l1.maxBytes', async () => {
    const cache = await tiered({}, { maxEntries: 3 });
    const f = cached(async (id: number) => ({ id }), { cache, name: 'bounded', ttl: '1m' });
    for (let id = 0; id < 6; id++) {
      await f(id);
      await untilHeld(f, id);
    }
    expect(cache.health().l1?.entries).toBe(3);

    const small = await tiered({}, { maxEntries: 100, maxBytes: 600 });
    const g = cached(async (id: number) => ({ id, pad: 'x'.repeat(100) }), { cache: small, name: 'bytes', ttl: '1m' });
    for (let id = 0; id < 6; id++) {
      await g(id);
      await untilHeld(g, id);
    }
    // An entry here counts about 2 × (key + ~170 bytes of envelope) ≈ 400: one fits in 600 bytes.
    expect(small.health().l1?.entries).toBe(1);
    const big = cached(async () => ({ pad: 'y'.repeat(1000) }), { cache: small, name: 'big', ttl: '1m' });
    await big();
    for (let i = 0; i < 10; i++) await big();
    expect(big.stats.l1Hits).toBe(0); // larger than maxBytes: served from Redis
    expect(big.stats.hits).toBe(10);
  });
});
