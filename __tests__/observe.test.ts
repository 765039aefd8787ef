/**
 * What a call tells about itself, on the memory store with an injected clock: the `cachette:call`
 * TracingChannel (one context per call, its outcome, tier and lock wait set by `asyncEnd`), the
 * same record through `f.withMeta()`, and the invalidation channel. No event carries an argument,
 * a key or a value.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { channel, tracingChannel } from 'node:diagnostics_channel';
import { cached, CALL_CHANNEL, createCache, INVALIDATE_CHANNEL, MemoryStore, type CallEvent, type InvalidateEvent } from '../lib/index.js';
import { CallRecord, observeCall } from '../lib/observe.js';
import { deferred, flush } from './helpers/deferred.js';
import { fakeClock } from './helpers/fake-clock.js';

const quiet = { warn() {}, error() {} };

function setup() {
  const clock = fakeClock();
  const cache = createCache({ store: { type: 'memory' }, clock, logger: quiet, namespace: 'obs' });
  return { clock, cache };
}

/** Every `cachette:call` event, as `phase status tier lockWait`, and the contexts seen. */
function recordCalls() {
  const lines: string[] = [];
  const contexts: CallEvent[] = [];
  const line = (phase: string) => (message: unknown) => {
    const event = message as CallEvent;
    if (!contexts.includes(event)) contexts.push(event);
    lines.push(phase === 'start' ? `start ${event.name}` : `${phase} ${event.name} ${event.status} ${event.tier}${event.lockWait ? ' lockWait' : ''}`);
  };
  const handlers = { start: line('start'), end: () => {}, asyncStart: () => {}, asyncEnd: line('asyncEnd'), error: line('error') };
  const calls = tracingChannel(CALL_CHANNEL);
  calls.subscribe(handlers);
  unsubscribers.push(() => calls.unsubscribe(handlers));
  return { lines, contexts };
}

const unsubscribers: Array<() => void> = [];
afterEach(() => {
  for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
});

describe('the cachette:call channel', () => {
  it('publishes each call with its outcome and tier once it settles', async () => {
    const { cache } = setup();
    const { lines } = recordCalls();
    const getUser = cached(async (id: number) => ({ id }), { cache, name: 'getUser', ttl: '1m' });
    await getUser(1);
    await getUser(1);
    await getUser(1, { bypassCache: true });
    await getUser(1, { forceRefresh: true });
    await getUser.refresh(1);
    await getUser(1, { cacheRead: false });
    expect(lines).toEqual([
      'start getUser',
      'asyncEnd getUser miss origin',
      'start getUser',
      'asyncEnd getUser hit store',
      'start getUser',
      'asyncEnd getUser bypass origin',
      'start getUser',
      'asyncEnd getUser refresh origin',
      'start getUser',
      'asyncEnd getUser refresh origin',
      'start getUser',
      'asyncEnd getUser miss origin',
    ]);
    expect(getUser.stats).toMatchObject({ hits: 1, misses: 2, bypasses: 1, refreshes: 2 });
  });

  it('traces each item of many() as the call it stands for', async () => {
    const { cache } = setup();
    const f = cached(
      async (id: number) => {
        if (id === 3) throw new Error('no 3');
        return { id };
      },
      { cache, name: 'f', ttl: '1m' },
    );
    await f(1);
    const { lines, contexts } = recordCalls();
    await expect(f.many([[1], [2], [1], [3]])).rejects.toThrow('no 3');
    await flush();
    expect(lines.filter((line) => line.startsWith('start'))).toHaveLength(4);
    expect(lines.filter((line) => !line.startsWith('start')).sort()).toEqual(['asyncEnd f error origin', 'asyncEnd f hit store', 'asyncEnd f hit store', 'asyncEnd f miss origin', 'error f error origin'].sort());
    expect(contexts[0]?.keyHash).toBe(contexts[2]?.keyHash);
    expect(contexts[0]?.keyHash).not.toBe(contexts[1]?.keyHash);
    const joined = cached(async (id: number) => ({ id }), { cache, name: 'joined', ttl: '1m' });
    lines.length = 0;
    await joined.many([[5], [5]]);
    expect(lines.filter((line) => !line.startsWith('start'))).toEqual(['asyncEnd joined miss origin', 'asyncEnd joined coalesced origin']);
  });

  it('marks a miss that joined a run in flight as coalesced', async () => {
    const { cache } = setup();
    const { lines } = recordCalls();
    const gate = deferred<void>();
    const f = cached(
      async (id: number) => {
        await gate.promise;
        return id;
      },
      { cache, name: 'f', ttl: '1m' },
    );
    const first = f(1);
    const second = f(1);
    await flush();
    gate.resolve();
    await Promise.all([first, second]);
    expect(lines.filter((l) => l.startsWith('asyncEnd'))).toEqual(['asyncEnd f miss origin', 'asyncEnd f coalesced origin']);
  });

  it('marks a stale value served while it refreshes as stale, from the store', async () => {
    const { clock, cache } = setup();
    const { lines } = recordCalls();
    let runs = 0;
    const f = cached(async () => ++runs, { cache, name: 'f', ttl: 1000, staleWhileRevalidate: 60_000 });
    await f();
    clock.advance(1500);
    expect(await f()).toBe(1);
    await flush();
    expect(await f()).toBe(2);
    expect(lines.filter((l) => l.startsWith('asyncEnd'))).toEqual(['asyncEnd f miss origin', 'asyncEnd f stale store', 'asyncEnd f hit store']);
  });

  it('marks a stale value served because the origin failed as stale (staleIfError)', async () => {
    const { clock, cache } = setup();
    const { lines } = recordCalls();
    let fail = false;
    const f = cached(
      async () => {
        if (fail) throw new Error('down');
        return 1;
      },
      { cache, name: 'f', ttl: 1000, staleIfError: 60_000 },
    );
    await f();
    clock.advance(1500);
    fail = true;
    expect(await f()).toBe(1);
    expect(lines.filter((l) => l.startsWith('asyncEnd'))).toEqual(['asyncEnd f miss origin', 'asyncEnd f stale store']);
  });

  it('publishes a rejected call on error, then asyncEnd with status error', async () => {
    const { cache } = setup();
    const { lines, contexts } = recordCalls();
    const boom = new Error('boom');
    const f = cached(
      async (_id: number) => {
        throw boom;
      },
      { cache, name: 'f', ttl: '1m' },
    );
    await expect(f(1)).rejects.toBe(boom);
    expect(lines).toEqual(['start f', 'error f error origin', 'asyncEnd f error origin']);
    expect(contexts[0]?.error).toBe(boom);
  });

  it('marks a miss that waited on another process lock holder, answered from the store', async () => {
    const clock = fakeClock();
    const store = new MemoryStore({ clock });
    // Two caches on one store stand for two processes (each has its own single-flight).
    const a = createCache({ store, clock, logger: quiet });
    const b = createCache({ store, clock, logger: quiet });
    const gate = deferred<void>();
    let runs = 0;
    const origin = async (id: number) => {
      runs++;
      await gate.promise;
      return id;
    };
    const fa = cached(origin, { cache: a, name: 'f', ttl: '1m', lock: { pollInterval: 1, maxPollInterval: 2 } });
    const fb = cached(origin, { cache: b, name: 'f', ttl: '1m', lock: { pollInterval: 1, maxPollInterval: 2 } });
    const holding = fa(7);
    await flush();
    const { lines } = recordCalls();
    const waiting = fb(7);
    await flush();
    gate.resolve();
    await Promise.all([holding, waiting]);
    expect(runs).toBe(1);
    expect(lines).toEqual(['start f', 'asyncEnd f miss store lockWait']);
    expect(fb.stats.lockWaits).toBe(1);
  });

  it('carries no argument, key or value: only its name, a key hash and what happened', async () => {
    const { cache } = setup();
    const { contexts } = recordCalls();
    const f = cached(async (email: string) => ({ secret: `value-of-${email}` }), { cache, name: 'lookup', ttl: '1m' });
    await f('alice@example.com');
    await f('alice@example.com');
    await f('bob@example.com');
    const seen = JSON.stringify(contexts, (_key, value: unknown) => (value === Infinity ? 'Infinity' : value));
    expect(seen).not.toMatch(/alice|bob|value-of|example\.com/);
    expect(contexts.map((c) => Object.keys(c).sort())).toEqual(Array(3).fill(['age', 'forwarded', 'keyHash', 'lockWait', 'name', 'originMs', 'status', 'tier', 'ttl']));
    expect(contexts[0]?.keyHash).toMatch(/^[0-9a-f]{16}$/);
    expect(contexts[1]?.keyHash).toBe(contexts[0]?.keyHash);
    expect(contexts[2]?.keyHash).not.toBe(contexts[0]?.keyHash);
    // The miss ran the origin (timed); the hit did not.
    expect(contexts.map((c) => typeof c.originMs)).toEqual(['number', 'undefined', 'number']);
  });

  it('runs the call inside start.runStores, so a store bound to start is current in the origin', async () => {
    const { AsyncLocalStorage } = await import('node:async_hooks');
    const { cache } = setup();
    const storage = new AsyncLocalStorage<string>();
    const start = channel(`tracing:${CALL_CHANNEL}:start`);
    start.bindStore(storage, (event) => `span of ${(event as CallEvent).name}`);
    unsubscribers.push(() => start.unbindStore(storage));
    let seen: string | undefined;
    const f = cached(
      async () => {
        seen = storage.getStore();
        return 1;
      },
      { cache, name: 'f' },
    );
    await f();
    expect(seen).toBe('span of f');
  });
});

describe('a call that throws instead of rejecting', () => {
  it.each([true, false])('still settles as a rejection, and is published as an error (traced: %s)', async (traced) => {
    const { lines } = recordCalls();
    const boom = new Error('thrown synchronously');
    const answer = (): Promise<unknown> => {
      throw boom;
    };
    const record = new CallRecord('f');
    let call: Promise<unknown> | undefined;
    expect(() => {
      call = observeCall(record, 'key', traced, answer, () => {});
    }).not.toThrow();
    await expect(call).rejects.toBe(boom);
    expect(record.status).toBe('error');
    expect(lines).toEqual(traced ? ['start f', 'error f error origin', 'asyncEnd f error origin'] : []);
  });
});

describe('f.withMeta()', () => {
  it('resolves to the value with its status, tier, age and ttl', async () => {
    const { clock, cache } = setup();
    const f = cached(async (id: number) => ({ id }), { cache, name: 'f', ttl: '1m' });
    expect(await f.withMeta(1)).toEqual({ value: { id: 1 }, status: 'miss', tier: 'origin', age: 0, ttl: 60_000, forwarded: true });
    clock.advance(5000);
    expect(await f.withMeta(1)).toEqual({ value: { id: 1 }, status: 'hit', tier: 'store', age: 5000, ttl: 55_000, forwarded: false });
    expect(await f.withMeta(1, { bypassCache: true })).toEqual({ value: { id: 1 }, status: 'bypass', tier: 'origin', age: 0, ttl: undefined, forwarded: true });
    expect(await f.withMeta(1, { forceRefresh: true, ttl: 2000 })).toEqual({ value: { id: 1 }, status: 'refresh', tier: 'origin', age: 0, ttl: 2000, forwarded: true });
    expect(f.stats).toMatchObject({ hits: 1, misses: 1, bypasses: 1, refreshes: 1 });
  });

  it('gives a negative ttl for a stale value and Infinity for one stored without expiry', async () => {
    const { clock, cache } = setup();
    const f = cached(async () => 1, { cache, name: 'f', ttl: 1000, staleWhileRevalidate: 60_000 });
    const forever = cached(async () => 2, { cache, name: 'forever' });
    await f();
    clock.advance(1500);
    expect(await f.withMeta()).toEqual({ value: 1, status: 'stale', tier: 'store', age: 1500, ttl: -500, forwarded: false });
    expect(await forever.withMeta()).toMatchObject({ status: 'miss', ttl: Infinity });
    expect(await forever.withMeta()).toMatchObject({ status: 'hit', ttl: Infinity });
  });

  it('rejects as the plain call does', async () => {
    const { cache } = setup();
    const boom = new Error('boom');
    const f = cached(
      async () => {
        throw boom;
      },
      { cache, name: 'f' },
    );
    await expect(f.withMeta()).rejects.toBe(boom);
  });

  it('leaves the plain call unchanged: it still resolves to the bare value', async () => {
    const { cache } = setup();
    const f = cached(async (id: number) => id * 2, { cache, name: 'f' });
    await f.withMeta(2);
    expect(await f(2)).toBe(4);
  });
});

describe('the cachette:invalidate channel', () => {
  it('publishes each invalidation with its scope, without keys or tags', async () => {
    const { cache } = setup();
    const events: InvalidateEvent[] = [];
    const listener = (message: unknown) => void events.push(message as InvalidateEvent);
    channel(INVALIDATE_CHANNEL).subscribe(listener);
    unsubscribers.push(() => channel(INVALIDATE_CHANNEL).unsubscribe(listener));
    const f = cached(async (email: string) => email.length, { cache, name: 'f', tags: ['users'] });
    await f('alice@example.com');
    await f.invalidate('alice@example.com');
    await f.invalidate('alice@example.com');
    await f.clear();
    await cache.clear({ stale: true });
    await cache.invalidateTags(['users', 'secret-tag']);
    expect(events).toEqual([
      { scope: 'key', name: 'f', namespace: 'obs', stale: false, ok: true, removed: true },
      { scope: 'key', name: 'f', namespace: 'obs', stale: false, ok: true, removed: false },
      { scope: 'function', name: 'f', namespace: 'obs', stale: false, ok: true },
      { scope: 'namespace', namespace: 'obs', stale: true, ok: true },
      { scope: 'tags', tags: 2, namespace: 'obs', stale: false, ok: true },
    ]);
  });
});

describe('cache.stats', () => {
  it('sums the counters of every function of the cache, as a snapshot', async () => {
    const { cache } = setup();
    const other = setup().cache;
    const f = cached(async (id: number) => id, { cache, name: 'f' });
    const g = cached(async (id: number) => id, { cache, name: 'g' });
    const h = cached(async (id: number) => id, { cache: other, name: 'h' });
    await f(1);
    await f(1);
    await g(1);
    await g(1, { bypassCache: true });
    await h(1);
    const snapshot = cache.stats;
    expect(snapshot).toEqual({ ...f.stats, hits: 1, misses: 2, bypasses: 1 });
    expect(Object.keys(snapshot).sort()).toEqual(Object.keys(f.stats).sort());
    await f(1);
    expect(snapshot.hits).toBe(1);
    expect(cache.stats.hits).toBe(2);
    expect(other.stats).toMatchObject({ hits: 0, misses: 1 });
  });
});
