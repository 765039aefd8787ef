/**
 * The diagnostics channels on a real Redis: the outcome and tier of calls answered by the store and
 * by the in-process tier (`l1`), the tier's coherence events when its tracking connection is cut
 * and comes back, and the breaker's state changes while the server is frozen. The breaker's
 * cool-down passes on an injected clock; the only real waiting is for connections (polled, bounded).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { channel, tracingChannel } from 'node:diagnostics_channel';
import { BREAKER_CHANNEL, CALL_CHANNEL, cached, createCache, L1_CHANNEL, type BreakerEvent, type Cache, type CallEvent, type L1Event, type RedisStore } from '../../lib/index.js';
import { fakeClock } from '../helpers/fake-clock.js';
import { startRedis, waitUntil, type TestRedis } from '../helpers/redis-server.js';

let redis: TestRedis;
const opened: Cache[] = [];
const quiet = { warn() {}, error() {} };
const unsubscribers: Array<() => void> = [];

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
  for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
  await Promise.all(opened.splice(0).map((cache) => cache.close()));
});

function listen<T>(name: string): T[] {
  const events: T[] = [];
  const listener = (message: unknown) => void events.push(message as T);
  channel(name).subscribe(listener);
  unsubscribers.push(() => channel(name).unsubscribe(listener));
  return events;
}

function listenCalls(): string[] {
  const lines: string[] = [];
  const asyncEnd = (message: unknown) => {
    const event = message as CallEvent;
    lines.push(`${event.status} ${event.tier}`);
  };
  const handlers = { start() {}, end() {}, asyncStart() {}, asyncEnd, error() {} };
  tracingChannel(CALL_CHANNEL).subscribe(handlers);
  unsubscribers.push(() => tracingChannel(CALL_CHANNEL).unsubscribe(handlers));
  return lines;
}

/** Kill this cache's tracking connection(s) from the server side. */
async function killTracking(): Promise<void> {
  const list = String(await redis.admin.sendCommand(['CLIENT', 'LIST']));
  for (const line of list.split('\n').filter((l) => / name=cachette-l1 /.test(l))) {
    const id = /id=(\d+)/.exec(line)?.[1] as string;
    await redis.admin.sendCommand(['CLIENT', 'KILL', 'ID', id]);
  }
}

describe('call outcomes on Redis', () => {
  it('tells a hit from Redis, a hit from the in-process tier and a miss apart', async () => {
    const l1 = listen<L1Event>(L1_CHANNEL);
    const cache = createCache({ store: { type: 'redis', url: redis.url }, namespace: 'obs', logger: quiet, l1: { maxEntries: 100 } });
    opened.push(cache);
    await waitUntil(() => cache.health().l1?.state === 'ready');
    expect(l1).toEqual([{ event: 'ready', namespace: 'obs' }]);
    const calls = listenCalls();
    const f = cached(async (id: number) => ({ id }), { cache, name: 'f', ttl: '1m' });
    const first = await f.withMeta(1);
    const second = await f.withMeta(1);
    // The tier keeps what Redis answered (the fill of the second call): the next call is served from the process.
    let third = await f.withMeta(1);
    for (let i = 0; i < 100 && third.tier !== 'l1'; i++) third = await f.withMeta(1);
    expect([first.status, first.tier, second.status, second.tier, third.status, third.tier]).toEqual(['miss', 'origin', 'hit', 'store', 'hit', 'l1']);
    expect(second.ttl).toBeGreaterThan(0);
    expect(second.ttl).toBeLessThanOrEqual(60_000);
    // The tier holds the entry without its header's times: its ttl is the Redis TTL the tier read; its age is unknown.
    expect(third.ttl).toBeGreaterThan(0);
    expect(third.ttl).toBeLessThanOrEqual(60_000);
    expect(third.age).toBeUndefined();
    expect(calls.slice(0, 2)).toEqual(['miss origin', 'hit store']);
    expect(calls.at(-1)).toBe('hit l1');
    expect(f.stats.l1Hits).toBe(calls.filter((line) => line === 'hit l1').length);
    expect(cache.stats).toMatchObject({ hits: f.stats.hits, l1Hits: f.stats.l1Hits, misses: 1 });
  });

  it('publishes the tier going down when its tracking connection is cut, and ready when it is back', async () => {
    const cache = createCache({ store: { type: 'redis', url: redis.url }, namespace: 'obs', logger: quiet, l1: { maxEntries: 100 } });
    opened.push(cache);
    await waitUntil(() => cache.health().l1?.state === 'ready');
    const l1 = listen<L1Event>(L1_CHANNEL);
    await killTracking();
    await waitUntil(() => l1.some((e) => e.event === 'ready'));
    expect(l1[0]).toEqual({ event: 'down', namespace: 'obs' });
    expect(l1.at(-1)).toEqual({ event: 'ready', namespace: 'obs' });
  });

  it('publishes a flush when Redis announces that every key changed (FLUSHALL)', async () => {
    const cache = createCache({ store: { type: 'redis', url: redis.url }, namespace: 'obs', logger: quiet, l1: { maxEntries: 100 } });
    opened.push(cache);
    await waitUntil(() => cache.health().l1?.state === 'ready');
    const l1 = listen<L1Event>(L1_CHANNEL);
    const flushes = cache.health().l1?.flushes ?? 0;
    await redis.admin.flushAll();
    await waitUntil(() => l1.length > 0);
    expect(l1).toEqual([{ event: 'flush', namespace: 'obs' }]);
    expect(cache.health().l1?.flushes).toBe(flushes + 1);
  });

  it('publishes each change Redis announces, saying whether the tier held that key, and never the key', async () => {
    const cache = createCache({ store: { type: 'redis', url: redis.url }, namespace: 'obs', logger: quiet, l1: { maxEntries: 100 } });
    const other = createCache({ store: { type: 'redis', url: redis.url }, namespace: 'obs', logger: quiet });
    opened.push(cache, other);
    await waitUntil(() => cache.health().l1?.state === 'ready');
    const f = cached(async (id: number) => ({ id }), { cache, name: 'changes', ttl: '1m' });
    const g = cached(async (id: number) => ({ id }), { cache: other, name: 'changes', ttl: '1m' });
    await g(1); // written by the other cache: f's first read fills the tier from Redis
    let meta = await f.withMeta(1);
    for (let i = 0; i < 100 && meta.tier !== 'l1'; i++) meta = await f.withMeta(1);
    expect(meta.tier).toBe('l1');
    const l1 = listen<L1Event>(L1_CHANNEL);
    await g.invalidate(1); // held here: dropped
    await waitUntil(() => l1.length >= 1);
    await g.invalidate(2); // never read here: nothing to drop (DEL of a missing key is not announced, a write is)
    await g(2);
    await waitUntil(() => l1.length >= 2);
    expect(l1).toEqual([
      { event: 'changed', namespace: 'obs', dropped: true },
      { event: 'changed', namespace: 'obs', dropped: false },
    ]);
    expect((await f.withMeta(1)).tier).toBe('origin');
  });
});

describe('breaker state changes on Redis', () => {
  it('publishes open, half-open and closed as the server freezes and thaws', async () => {
    const clock = fakeClock();
    const events = listen<BreakerEvent>(BREAKER_CHANNEL);
    const cache = createCache({ store: { type: 'redis', url: redis.url, opTimeout: 100 }, clock, logger: quiet, breaker: { threshold: 2, cooldown: 1000 } });
    opened.push(cache);
    const f = cached(async (id: number) => id, { cache, name: 'f', ttl: '1h' });
    await f(1);
    redis.freeze();
    try {
      for (let i = 0; i < 3; i++) await f(100 + i);
    } finally {
      redis.thaw();
    }
    expect(events).toEqual([{ store: 'redis', state: 'open', namespace: undefined, consecutiveFailures: 2 }]);
    await waitUntil(() => (cache.store as RedisStore).client.isReady);
    clock.advance(1000);
    await f(1); // the probe
    await waitUntil(() => cache.health().state === 'closed');
    expect(events.map((e) => e.state)).toEqual(['open', 'half-open', 'closed']);
    expect(events[2]).toEqual({ store: 'redis', state: 'closed', namespace: undefined, consecutiveFailures: 0 });
  });
});
