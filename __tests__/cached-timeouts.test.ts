/**
 * Origin timeouts (soft and hard) and cancellation through a per-call AbortSignal. Timers are Jest's
 * fake timers and the TTL clock is injected: nothing sleeps.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { CacheOriginTimeoutError, CacheTimeoutError, cached, createCache, MemoryStore, originSignal } from '../lib/index.js';
import { deferred, type Deferred } from './helpers/deferred.js';
import { fakeClock } from './helpers/fake-clock.js';
import { RecordingStore } from './helpers/test-stores.js';
import { createStats } from '../lib/stats.js';

const quiet = { warn() {}, error() {} };
/** Let the calls made so far read the store and reach their origin run. */
const settle = (): Promise<void> => jest.advanceTimersByTimeAsync(0);

beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
});
afterEach(() => {
  jest.useRealTimers();
});

function setup() {
  const clock = fakeClock();
  const cache = createCache({ store: new MemoryStore({ clock }), clock, logger: quiet });
  return { clock, cache };
}

/** An origin whose answers the test releases by hand, one deferred per run. */
function gatedOrigin() {
  const runs: Array<Deferred<string>> = [];
  const signals: Array<AbortSignal | undefined> = [];
  const origin = (id: number): Promise<string> => {
    signals.push(originSignal());
    const run = deferred<string>();
    runs.push(run);
    return run.promise.then((v) => `${v}:${id}`);
  };
  return { origin, runs, signals };
}

describe('hard timeout', () => {
  it('rejects with a CacheOriginTimeoutError (not a store error) and still stores the late answer', async () => {
    const { cache } = setup();
    const { origin, runs } = gatedOrigin();
    const f = cached(origin, { cache, name: 'f', ttl: '1m', timeout: { hard: 1000 } });
    const call = f(1);
    const outcome = expect(call).rejects.toBeInstanceOf(CacheOriginTimeoutError);
    await jest.advanceTimersByTimeAsync(1000);
    await outcome;
    await expect(call).rejects.not.toBeInstanceOf(CacheTimeoutError);
    await expect(call).rejects.toMatchObject({ code: 'CACHE_ERR_ORIGIN_TIMEOUT', fn: 'f', timeoutMs: 1000 });
    runs[0]!.resolve('late');
    await jest.advanceTimersByTimeAsync(0);
    expect(await f(1)).toBe('late:1'); // a hit: the late answer was written
    expect(runs).toHaveLength(1);
    expect(f.stats).toMatchObject({ timeouts: 1, hits: 1 });
  });

  it('serves a stale value within staleIfError instead of the timeout error', async () => {
    const { clock, cache } = setup();
    const { origin, runs } = gatedOrigin();
    const f = cached(origin, { cache, name: 'f', ttl: 1000, staleIfError: '1h', timeout: 500 });
    const first = f(1);
    await settle();
    runs[0]!.resolve('old');
    expect(await first).toBe('old:1');
    clock.advance(5000);
    const second = f(1);
    await jest.advanceTimersByTimeAsync(500);
    expect(await second).toBe('old:1');
    expect(f.stats).toMatchObject({ timeouts: 1, staleIfError: 1 });
  });

  it('lets a per-call timeout override the function timeout', async () => {
    const { cache } = setup();
    const { origin, runs } = gatedOrigin();
    const f = cached(origin, { cache, name: 'f', timeout: 60_000 });
    const call = f(1, { timeout: 10 });
    const outcome = expect(call).rejects.toBeInstanceOf(CacheOriginTimeoutError);
    await jest.advanceTimersByTimeAsync(10);
    await outcome;
    runs[0]!.resolve('x');
  });
});

describe('soft timeout', () => {
  it('returns the stale value after the soft timeout and updates the cache when the origin answers', async () => {
    const { clock, cache } = setup();
    const { origin, runs } = gatedOrigin();
    const f = cached(origin, { cache, name: 'f', ttl: 1000, staleIfError: '1h', timeout: { soft: 100 } });
    const first = f(1);
    await settle();
    runs[0]!.resolve('old');
    await first;
    clock.advance(2000);
    const second = f(1);
    await jest.advanceTimersByTimeAsync(100);
    expect(await second).toBe('old:1');
    expect(f.stats.stale).toBe(1);
    await settle();
    runs[1]!.resolve('new');
    await jest.advanceTimersByTimeAsync(0);
    expect(await f(1)).toBe('new:1');
  });

  it('keeps waiting for the origin when there is no stale value', async () => {
    const { cache } = setup();
    const { origin, runs } = gatedOrigin();
    const f = cached(origin, { cache, name: 'f', ttl: 1000, staleIfError: '1h', timeout: { soft: 100 } });
    const call = f(1);
    await jest.advanceTimersByTimeAsync(5000);
    runs[0]!.resolve('v');
    expect(await call).toBe('v:1');
  });
});

describe('cancellation', () => {
  it('rejects only the aborted caller; the others of the same run get the value', async () => {
    const { cache } = setup();
    const { origin, runs, signals } = gatedOrigin();
    const f = cached(origin, { cache, name: 'f', ttl: '1m' });
    const controller = new AbortController();
    const leaving = f(1, { signal: controller.signal });
    const staying = f(1);
    await settle();
    controller.abort();
    await expect(leaving).rejects.toMatchObject({ name: 'AbortError' });
    expect(signals[0]?.aborted).toBe(false); // someone still waits
    runs[0]!.resolve('v');
    expect(await staying).toBe('v:1');
    expect(runs).toHaveLength(1);
  });

  it('aborts the origin signal once every caller has gone, with the last reason', async () => {
    const { cache } = setup();
    const { origin, runs, signals } = gatedOrigin();
    const f = cached(origin, { cache, name: 'f', ttl: '1m' });
    const a = new AbortController();
    const b = new AbortController();
    const first = f(1, { signal: a.signal });
    const second = f(1, { signal: b.signal });
    await settle();
    a.abort(new Error('a left'));
    await expect(first).rejects.toThrow('a left');
    expect(signals[0]?.aborted).toBe(false);
    b.abort(new Error('b left'));
    await expect(second).rejects.toThrow('b left');
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[0]?.reason).toEqual(new Error('b left'));
    runs[0]!.resolve('unused');
  });

  it('aborts the origin signal when the only caller passes its hard timeout', async () => {
    const { cache } = setup();
    const { origin, runs, signals } = gatedOrigin();
    const f = cached(origin, { cache, name: 'f', timeout: 50 });
    const call = f(1);
    const outcome = expect(call).rejects.toBeInstanceOf(CacheOriginTimeoutError);
    await jest.advanceTimersByTimeAsync(50);
    await outcome;
    expect(signals[0]?.aborted).toBe(true);
    runs[0]!.resolve('late');
  });

  it('starts a new run instead of joining one every caller has left', async () => {
    const { cache } = setup();
    const { origin, runs, signals } = gatedOrigin();
    const f = cached(origin, { cache, name: 'f', ttl: '1m' });
    const controller = new AbortController();
    const leaving = f(1, { signal: controller.signal });
    await settle();
    controller.abort();
    await expect(leaving).rejects.toMatchObject({ name: 'AbortError' });
    expect(signals[0]?.aborted).toBe(true);
    const fresh = f(1);
    await settle();
    expect(runs).toHaveLength(2);
    runs[0]!.reject(signals[0]!.reason);
    runs[1]!.resolve('v');
    expect(await fresh).toBe('v:1');
  });

  it.each([
    ['a read-through call', {}],
    ['a bypass', { bypassCache: true, cacheWrite: true }],
    ['a forced refresh', { forceRefresh: true }],
    ['a call without read', { cacheRead: false }],
  ])('rejects %s with an already aborted signal at once: no read, no run, no write, no counter', async (_what, options) => {
    const clock = fakeClock();
    const store = new RecordingStore(new MemoryStore({ clock }));
    const cache = createCache({ store, clock, logger: quiet });
    const { origin, runs } = gatedOrigin();
    const f = cached(origin, { cache, name: 'f', timeout: 1000 });
    const reason = new DOMException('gone', 'AbortError');
    await expect(f(1, { ...options, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(runs).toHaveLength(0);
    expect(store.log).toEqual([]);
    expect(f.stats).toEqual(createStats());
  });

  it('rejects with an AbortError when an aborted signal gives no reason', async () => {
    const { cache } = setup();
    const f = cached(async () => 1, { cache, name: 'f' });
    const signal = AbortSignal.abort();
    Object.defineProperty(signal, 'reason', { value: undefined });
    await expect(f({ signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('settles a call whose signal throws from removeEventListener, without an unhandled rejection', async () => {
    const { cache } = setup();
    const { origin, runs } = gatedOrigin();
    const f = cached(origin, { cache, name: 'f', ttl: '1m' });
    const signal = new AbortController().signal;
    Object.defineProperty(signal, 'removeEventListener', {
      value: () => {
        throw new TypeError('not supported');
      },
    });
    const call = f(1, { signal });
    await settle();
    runs[0]!.resolve('v');
    expect(await call).toBe('v:1');
    expect(await f(1)).toBe('v:1');
  });

  it('rejects a call whose signal cannot be listened to with a CacheConfigError and leaves the run', async () => {
    const { cache } = setup();
    const { origin, runs, signals } = gatedOrigin();
    const f = cached(origin, { cache, name: 'f', ttl: '1m' });
    const signal = new AbortController().signal;
    Object.defineProperty(signal, 'addEventListener', {
      value: () => {
        throw new TypeError('not supported');
      },
    });
    const other = new AbortController();
    const staying = f(1, { signal: other.signal });
    await expect(f(1, { signal })).rejects.toMatchObject({ name: 'CacheConfigError', field: 'callOptions.signal' });
    expect(signals[0]?.aborted).toBe(false);
    other.abort();
    await expect(staying).rejects.toMatchObject({ name: 'AbortError' });
    expect(signals[0]?.aborted).toBe(true); // the refused caller had left: nobody waits any more
    runs[0]!.resolve('v');
    expect(runs).toHaveLength(1);
  });

  it('gives originSignal only during the synchronous start of the origin', async () => {
    expect(originSignal()).toBeUndefined();
    const { cache } = setup();
    let inside: AbortSignal | undefined;
    let afterAwait: AbortSignal | undefined = new AbortController().signal;
    const f = cached(
      async () => {
        inside = originSignal();
        await Promise.resolve();
        afterAwait = originSignal();
        return 1;
      },
      { cache, name: 'f' },
    );
    await f();
    expect(inside).toBeInstanceOf(AbortSignal);
    expect(afterAwait).toBeUndefined();
  });
});
