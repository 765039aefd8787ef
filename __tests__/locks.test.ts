/**
 * lib/locks.ts on its own: the lock key format, the `lock` option (defaults, validation), and
 * runLocked's fallbacks, on memory stores (the cross-process behaviour is in
 * integration/lock.test.ts and integration/lock-multiprocess.test.ts, on real Redis).
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import fc from 'fast-check';
import { cached } from '../lib/cached.js';
import { createCache } from '../lib/cache.js';
import { CacheConfigError } from '../lib/errors.js';
import { encodeArgs, joinKey, keyHead } from '../lib/keys.js';
import { resolveLock } from '../lib/config/resolve.js';
import { DEFAULT_LOCK as LOCK_DEFAULTS } from '../lib/defaults.js';
import { LOCK_SUFFIX, canLock, lockKeyOf, runLocked, type LockedMiss } from '../lib/locks.js';
import { createStats } from '../lib/stats.js';
import { MemoryStore } from '../lib/stores/memory.js';
import type { Store } from '../lib/stores/store.js';
import { fakeClock, type FakeClock } from './helpers/fake-clock.js';
import { brokenStore } from './helpers/test-stores.js';

describe('lock keys', () => {
  it('are the data key followed by |lock', () => {
    expect(lockKeyOf('app:getUser:42')).toBe('app:getUser:42|lock');
    expect(LOCK_SUFFIX).toBe('|lock');
  });

  const ending = fc.string({ maxLength: 6 }).map((s) => `${s}|lock`);
  const leaf = fc.oneof(fc.string(), ending, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.bigInt(), fc.date());
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small', maxDepth: 2 }, leaf, fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(ending, tie('value'), { maxKeys: 2 })),
  }));

  it('never equal a key cachette builds from arguments, even from arguments that end in |lock', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 4 }), fc.constantFrom('f', 'f|lock', 'ns:f:v2'), (args, identity) => {
        const encoded = encodeArgs(args);
        if (encoded === undefined) return;
        expect(encoded.endsWith(LOCK_SUFFIX)).toBe(false);
        expect(joinKey(keyHead({ identity }), encoded).endsWith(LOCK_SUFFIX)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('never equal a bounded long key (those end in a base64url hash)', () => {
    const long = joinKey('f', JSON.stringify('x'.repeat(400) + '|lock'));
    expect(long).toMatch(/#[A-Za-z0-9_-]{43}$/);
  });
});

describe('the lock option', () => {
  it('is off unless asked for', () => {
    expect(resolveLock(undefined)).toBeUndefined();
    expect(resolveLock(false)).toBeUndefined();
  });

  it('defaults to a 10 s lock, a 5 s wait and polls from 10 ms doubling to 200 ms', () => {
    expect(resolveLock(true)).toEqual({ ttlMs: 10_000, waitMs: 5_000, pollMs: 10, maxPollMs: 200 });
    expect(resolveLock({})).toEqual(LOCK_DEFAULTS);
  });

  it('takes durations as milliseconds or strings, each field alone', () => {
    expect(resolveLock({ ttl: '30s', wait: 0 })).toEqual({ ttlMs: 30_000, waitMs: 0, pollMs: 10, maxPollMs: 200 });
    expect(resolveLock({ pollInterval: '50ms', maxPollInterval: '1s' })).toMatchObject({ pollMs: 50, maxPollMs: 1000 });
    expect(resolveLock({ pollInterval: 500 })).toMatchObject({ pollMs: 500, maxPollMs: 500 }); // the cap never sits below the start
    expect(resolveLock({ ttl: 1.2 })).toMatchObject({ ttlMs: 2 }); // whole milliseconds for PX
  });

  it.each([
    [{ lock: 5 }, 'lock', 'expected true, false or { ttl, wait, pollInterval, maxPollInterval }, received 5'],
    [{ lock: 'yes' }, 'lock', 'received string'],
    [{ lock: null }, 'lock', 'received null'],
    [{ lock: { ttl: 0 } }, 'lock.ttl', 'must be a positive duration of at most 2147483647 ms, got 0'],
    [{ lock: { ttl: '-1s' } }, 'lock.ttl', 'must be a positive duration'],
    [{ lock: { ttl: Infinity } }, 'lock.ttl', 'at most 2147483647 ms'],
    [{ lock: { wait: -1 } }, 'lock.wait', 'must be a non-negative duration of at most 2147483647 ms, got -1'],
    [{ lock: { wait: Infinity } }, 'lock.wait', 'at most 2147483647 ms'],
    [{ lock: { pollInterval: 0 } }, 'lock.pollInterval', 'must be a positive duration'],
    [{ lock: { pollInterval: 100, maxPollInterval: 50 } }, 'lock.maxPollInterval', 'must be at least pollInterval (100 ms)'],
    [{ lock: { maxPollInterval: 5 } }, 'lock.maxPollInterval', 'must be at least pollInterval (10 ms)'],
    [{ lock: { tll: 1000 } }, 'lock.tll', 'is not a known option'],
  ])('rejects %j, naming the field', (options, field, message) => {
    let error: unknown;
    try {
      cached(async () => 1, { name: 'f', ...(options as object) });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CacheConfigError);
    expect((error as CacheConfigError).field).toBe(field);
    expect((error as CacheConfigError).message).toContain(`cachette: ${field}: `);
    expect((error as CacheConfigError).message).toContain(message);
  });

  it('accepts true, false and a full settings object', () => {
    expect(() => cached(async () => 1, { name: 'f', lock: true })).not.toThrow();
    expect(() => cached(async () => 1, { name: 'f', lock: false })).not.toThrow();
    expect(() => cached(async () => 1, { name: 'f', lock: { ttl: '10s', wait: '5s', pollInterval: 10, maxPollInterval: '200ms' } })).not.toThrow();
  });
});

/** A LockedMiss over `store` whose origin answers `value`, recording what happened. */
function missOn(store: Store, value: unknown = 'fresh') {
  const events: string[] = [];
  const stats = createStats();
  const miss: LockedMiss = {
    store,
    key: 'k',
    stats,
    waitForWrite: true,
    decode: (raw) => ({ value: `decoded ${String(raw)}` }),
    compute: async () => {
      events.push('origin');
      return { value, stored: Promise.resolve(store.set('k', String(value), 60_000)).then(() => void events.push('stored')) };
    },
    fail: (_error, message) => void events.push(`fail: ${message}`),
    lost: () => void events.push('lost'),
    track: () => {},
    now: () => Date.now(),
  };
  return { miss, events, stats };
}

/**
 * A LockedMiss on `store` whose time is `clock`: each pause between polls moves the clock (no real
 * waiting) and is recorded; `onPause` runs after each, standing for what other processes do meanwhile.
 */
function clockedMiss(store: Store, clock: FakeClock, onPause: (pauses: number[]) => void = () => {}) {
  const pauses: number[] = [];
  const { miss, events, stats } = missOn(store);
  const clocked: LockedMiss = {
    ...miss,
    now: () => clock.now(),
    sleep: async (ms) => {
      pauses.push(ms);
      clock.advance(ms);
      onPause(pauses);
    },
  };
  return { miss: clocked, events, stats, pauses };
}

const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);

describe('runLocked', () => {
  it('holds the lock while the origin runs and the value is written, then releases it', async () => {
    const store = new MemoryStore();
    const seen: unknown[] = [];
    const { miss, events } = missOn(store);
    const compute = miss.compute;
    const spied: LockedMiss = {
      ...miss,
      compute: () => {
        seen.push(store.get(lockKeyOf('k')));
        return compute();
      },
    };
    expect(await runLocked(LOCK_DEFAULTS, spied)).toBe('fresh');
    expect(seen).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/)]); // a random token (crypto.randomUUID)
    expect(events).toEqual(['origin', 'stored']);
    expect(store.get(lockKeyOf('k'))).toBeUndefined();
    expect(store.get('k')).toBe('fresh');
  });

  it('gives every attempt its own token', async () => {
    const store = new MemoryStore();
    const tokens = new Set<unknown>();
    for (let i = 0; i < 5; i++) {
      const { miss } = missOn(store);
      store.delete('k');
      await runLocked(LOCK_DEFAULTS, { ...miss, compute: () => (tokens.add(store.get(lockKeyOf('k'))), miss.compute()) });
    }
    expect(tokens.size).toBe(5);
  });

  it('releases at once and rethrows when the origin fails', async () => {
    const store = new MemoryStore();
    const { miss } = missOn(store);
    await expect(runLocked(LOCK_DEFAULTS, { ...miss, compute: () => Promise.reject(new Error('origin down')) })).rejects.toThrow('origin down');
    expect(store.get(lockKeyOf('k'))).toBeUndefined();
  });

  it('answers with the stored value found in the same round trip as the lock attempt, and releases', async () => {
    const store = new MemoryStore();
    store.set('k', 'written-by-another', 60_000);
    const { miss, events } = missOn(store);
    expect(await runLocked(LOCK_DEFAULTS, miss)).toBe('decoded written-by-another');
    expect(events).toEqual([]);
    expect(store.get(lockKeyOf('k'))).toBeUndefined();
  });

  it('runs the origin without a lock on a store that cannot lock', async () => {
    const inner = new MemoryStore();
    const plain: Store = { name: 'plain', get: (k) => inner.get(k), set: (k, v, t) => inner.set(k, v, t), delete: (k) => inner.delete(k) };
    expect(canLock(plain)).toBe(false);
    const { miss, events, stats } = missOn(plain);
    expect(await runLocked(LOCK_DEFAULTS, miss)).toBe('fresh');
    expect(events).toEqual(['origin', 'stored']);
    expect(stats).toEqual(createStats());
  });

  it.each([
    ['asynchronously', brokenStore()],
    ['synchronously', brokenStore({ sync: true })],
  ])('runs the origin when the store fails %s while locking (fail-open)', async (_how, broken) => {
    const store: Store = { ...broken, setIfAbsent: () => broken.set('', '', 1) as never, deleteIfEquals: () => broken.delete('') as never };
    const { miss, events } = missOn(store);
    const answered = await runLocked(LOCK_DEFAULTS, { ...miss, compute: async () => (events.push('origin'), { value: 'fresh', stored: Promise.resolve() }) });
    expect(answered).toBe('fresh');
    expect(events).toEqual(['fail: cachette: the miss lock failed; calling the origin without it', 'origin']);
  });

  it('still holds (and releases) a lock it took when only the read beside it failed', async () => {
    const inner = new MemoryStore();
    const store: Store = {
      name: 'half',
      get: () => Promise.reject(new Error('read failed')),
      set: (k, v, t) => inner.set(k, v, t),
      delete: (k) => inner.delete(k),
      setIfAbsent: (k, v, t) => inner.setIfAbsent(k, v, t),
      deleteIfEquals: (k, v) => inner.deleteIfEquals(k, v),
    };
    const { miss, events } = missOn(store);
    expect(await runLocked(LOCK_DEFAULTS, miss)).toBe('fresh');
    expect(events).toEqual(['fail: cachette: the miss lock failed; calling the origin without it', 'origin', 'stored']);
    expect(inner.get(lockKeyOf('k'))).toBeUndefined();
  });

  it('reports a lock that expired before its release, and leaves the new holder’s lock alone', async () => {
    const store = new MemoryStore();
    const { miss, events } = missOn(store);
    const answered = await runLocked(LOCK_DEFAULTS, {
      ...miss,
      compute: async () => {
        // Our lock expired meanwhile and another process took it.
        store.delete(lockKeyOf('k'));
        store.setIfAbsent(lockKeyOf('k'), 'other-token', 60_000);
        return miss.compute();
      },
    });
    expect(answered).toBe('fresh');
    expect(events).toEqual(['origin', 'stored', 'lost']);
    expect(store.get(lockKeyOf('k'))).toBe('other-token');
  });

  it('counts a failed release as a lock failure, never as a failed call', async () => {
    const inner = new MemoryStore();
    const store: Store = {
      name: 'no-release',
      get: (k) => inner.get(k),
      set: (k, v, t) => inner.set(k, v, t),
      delete: (k) => inner.delete(k),
      setIfAbsent: (k, v, t) => inner.setIfAbsent(k, v, t),
      deleteIfEquals: () => Promise.reject(new Error('connection lost')),
    };
    const { miss, events } = missOn(store);
    expect(await runLocked(LOCK_DEFAULTS, miss)).toBe('fresh');
    expect(events).toEqual(['origin', 'stored', 'fail: cachette: the miss lock could not be released; it expires after its ttl']);
  });
});

describe('waiting for another holder, on the injected clock (no real waiting)', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });
  const settings = { ttlMs: 10_000, waitMs: 1000, pollMs: 10, maxPollMs: 200 };

  it('polls with doubling pauses until the holder’s value appears, and returns it', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0); // jitter: half of each delay
    const clock = fakeClock();
    const store = new MemoryStore({ clock });
    store.setIfAbsent(lockKeyOf('k'), 'holder', 10_000);
    const { miss, events, stats, pauses } = clockedMiss(store, clock, (done) => {
      if (done.length === 4) store.set('k', 'written-by-holder', 60_000);
    });
    expect(await runLocked(settings, miss)).toBe('decoded written-by-holder');
    expect(pauses).toEqual([5, 10, 20, 40]);
    expect(events).toEqual([]);
    expect(stats).toMatchObject({ lockWaits: 1, lockTakeovers: 0, lockTimeouts: 0 });
  });

  it('takes over once the holder’s lock expires on the store’s clock', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const clock = fakeClock();
    const store = new MemoryStore({ clock });
    store.setIfAbsent(lockKeyOf('k'), 'dead-holder', 300);
    const { miss, events, stats, pauses } = clockedMiss(store, clock);
    expect(await runLocked(settings, miss)).toBe('fresh');
    expect(sum(pauses)).toBeGreaterThanOrEqual(300);
    expect(sum(pauses.slice(0, -1))).toBeLessThan(300);
    expect(events).toEqual(['origin', 'stored']);
    expect(stats).toMatchObject({ lockWaits: 1, lockTakeovers: 1, lockTimeouts: 0 });
    expect(store.get(lockKeyOf('k'))).toBeUndefined();
  });

  it('runs the origin once the wait bound passes, leaving the other holder’s lock alone', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const clock = fakeClock();
    const store = new MemoryStore({ clock });
    store.setIfAbsent(lockKeyOf('k'), 'slow-holder', 60_000);
    const started = clock.now();
    const { miss, events, stats, pauses } = clockedMiss(store, clock);
    expect(await runLocked({ ...settings, waitMs: 50, pollMs: 5 }, miss)).toBe('fresh');
    expect(pauses).toEqual([2.5, 5, 10, 20, 12.5]); // the last pause is cut to what is left
    expect(clock.now() - started).toBe(50);
    expect(events).toEqual(['origin', 'stored']);
    expect(stats).toMatchObject({ lockWaits: 1, lockTakeovers: 0, lockTimeouts: 1 });
    expect(store.get(lockKeyOf('k'))).toBe('slow-holder');
  });

  it('counts the time round trips take, by the clock', async () => {
    const clock = fakeClock();
    const store = new MemoryStore({ clock });
    store.setIfAbsent(lockKeyOf('k'), 'slow-holder', 60_000);
    const pauses: number[] = [];
    const { miss, stats } = missOn(store);
    // Every poll's round trip takes 100 ms; the pauses themselves take no time on this clock.
    const slow: LockedMiss = { ...miss, get store() { return store; }, now: () => clock.now(), sleep: async (ms) => void pauses.push(ms) };
    const get = store.get.bind(store);
    jest.spyOn(store, 'get').mockImplementation((key) => (clock.advance(100), get(key)));
    expect(await runLocked({ ...settings, waitMs: 250 }, slow)).toBe('fresh');
    expect(pauses.length).toBeLessThanOrEqual(3);
    expect(stats.lockTimeouts).toBe(1);
  });

  it('still ends the wait when the clock stands still, once the pauses add up to it', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const store = new MemoryStore();
    store.setIfAbsent(lockKeyOf('k'), 'slow-holder', 60_000);
    const frozen = fakeClock();
    const pauses: number[] = [];
    const { miss, stats } = missOn(store);
    const still: LockedMiss = { ...miss, now: () => frozen.now(), sleep: async (ms) => void pauses.push(ms) };
    expect(await runLocked({ ...settings, waitMs: 300 }, still)).toBe('fresh');
    expect(sum(pauses)).toBe(300);
    expect(stats.lockTimeouts).toBe(1);
  });
});

describe('the lock through cached() on one process', () => {
  it('counts a lock failure in stats.errors and logs it as kind lock', async () => {
    const inner = new MemoryStore();
    const kinds: unknown[] = [];
    const store: Store = {
      name: 'flaky-lock',
      get: (k) => inner.get(k),
      set: (k, v, t) => inner.set(k, v, t),
      delete: (k) => inner.delete(k),
      // The lock's SET NX fails; the invalidation records (also made with it) do not.
      setIfAbsent: (k, v, t) => {
        if (k.endsWith('|lock')) throw new Error('NX refused');
        return inner.setIfAbsent(k, v, t);
      },
      deleteIfEquals: (k, v) => inner.deleteIfEquals(k, v),
    };
    const logger = { warn: (fields: Record<string, unknown>) => void kinds.push(fields.kind), error: () => {} };
    const cache = createCache({ store, logger });
    let runs = 0;
    const f = cached(async (id: number) => ({ id, run: ++runs }), { cache, name: 'f', lock: true });
    expect(await f(1)).toEqual({ id: 1, run: 1 });
    expect(await f(1)).toEqual({ id: 1, run: 1 }); // written despite the lock failure
    expect(f.stats).toMatchObject({ misses: 1, hits: 1, errors: 1, lockWaits: 0 });
    expect(kinds).toEqual(['lock']);
  });
});
