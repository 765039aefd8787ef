import { describe, expect, it } from '@jest/globals';
import { createCache } from '../../lib/cache.js';
import { cached } from '../../lib/cached.js';
import { CacheStoreError } from '../../lib/errors.js';
import { MemoryStore } from '../../lib/stores/memory.js';
import { fakeClock } from '../helpers/fake-clock.js';
import { runStoreContract } from '../../lib/testing/index.js';

runStoreContract('MemoryStore', async () => {
  const clock = fakeClock();
  const store = new MemoryStore({ clock });
  return {
    store,
    advance: (ms) => clock.advance(ms),
    inspectTtl: (key) => store.ttlOf(key),
    cleanup: () => store.close(),
  };
}, { describe, it }, { capabilities: ['getAndExpire', 'getMany', 'setIfAbsent', 'deleteIfEquals', 'replaceIfEquals'] });

describe('MemoryStore least-recently-used eviction', () => {
  it('evicts the least recently used entry beyond maxEntries', () => {
    const store = new MemoryStore({ maxEntries: 3 });
    store.set('a', 'A', undefined);
    store.set('b', 'B', undefined);
    store.set('c', 'C', undefined);
    expect(store.get('a')).toBe('A'); // a is now the most recently used
    store.set('d', 'D', undefined);
    expect(store.size).toBe(3);
    expect(store.get('b')).toBeUndefined();
    expect([store.get('a'), store.get('c'), store.get('d')]).toEqual(['A', 'C', 'D']);
  });

  it('counts a read that extends the ttl as a use', () => {
    const store = new MemoryStore({ maxEntries: 2, clock: fakeClock() });
    store.set('a', 'A', 1000);
    store.set('b', 'B', 1000);
    store.getAndExpire('a', 5000);
    store.set('c', 'C', 1000);
    expect(store.get('a')).toBe('A');
    expect(store.get('b')).toBeUndefined();
  });

  it('keeps 10,000 entries by default', () => {
    const store = new MemoryStore();
    for (let i = 0; i <= 10_000; i++) store.set(`k${i}`, 'v', undefined);
    expect(store.size).toBe(10_000);
    expect(store.get('k0')).toBeUndefined();
    expect(store.get('k1')).toBe('v');
  });

  it('applies maxEntries given to createCache', async () => {
    const cache = createCache({ store: { type: 'memory', maxEntries: 2 } });
    let runs = 0;
    const f = cached(async (id: number) => (runs++, id), { cache, name: 'f' });
    await f(1);
    await f(2);
    await f(3); // evicts 1
    await f(3);
    await f(1);
    expect(runs).toBe(4);
    expect((cache.store as MemoryStore).size).toBe(2);
  });
});

describe('MemoryStore memory', () => {
  it('allocates nothing up front for a large maxEntries (1e8, and 2^32)', () => {
    const before = process.memoryUsage();
    const stores = [new MemoryStore({ maxEntries: 1e8 }), new MemoryStore({ maxEntries: 2 ** 32 }), createCache({ store: { type: 'memory', maxEntries: 1e8 } }).store];
    const after = process.memoryUsage();
    // lru-cache's `max` preallocated typed arrays of that length: 1.2 GB of array buffers for 1e8.
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(1e6);
    expect(after.heapUsed - before.heapUsed).toBeLessThan(10e6);
    for (const store of stores) {
      store.set('k', 'v', undefined);
      expect(store.get('k')).toBe('v');
    }
  });
});

describe('MemoryStore locks', () => {
  it('keeps locks apart from entries: taking one never evicts an entry, and maxEntries counts entries only', () => {
    const store = new MemoryStore({ maxEntries: 2, clock: fakeClock() });
    store.set('a', 'A', undefined);
    store.set('b', 'B', undefined);
    expect(store.setIfAbsent('a|lock', 'token-a', 10_000)).toBe(true);
    expect(store.setIfAbsent('b|lock', 'token-b', 10_000)).toBe(true);
    expect(store.size).toBe(2);
    expect([store.get('a'), store.get('b')]).toEqual(['A', 'B']);
    expect([store.get('a|lock'), store.get('b|lock')]).toEqual(['token-a', 'token-b']);
    expect(store.ttlOf('a|lock')).toBe(10_000);
    store.set('c', 'C', undefined); // an entry evicts an entry, never a lock
    expect(store.get('a')).toBeUndefined();
    expect(store.get('a|lock')).toBe('token-a');
  });

  it('sees entries and locks as one key space', () => {
    const clock = fakeClock();
    const store = new MemoryStore({ clock });
    store.set('data', 'D', undefined);
    expect(store.setIfAbsent('data', 'x', 1000)).toBe(false);
    expect(store.setIfAbsent('lock', 't1', 1000)).toBe(true);
    expect(store.setIfAbsent('lock', 't2', 1000)).toBe(false);
    expect(store.deleteIfEquals('lock', 't2')).toBe(false);
    expect(store.deleteIfEquals('lock', 't1')).toBe(true);
    expect(store.get('lock')).toBeUndefined();
    expect(store.setIfAbsent('lock', 't3', 1000)).toBe(true);
    clock.advance(1001);
    expect(store.setIfAbsent('lock', 't4', 1000)).toBe(true); // the expired lock is gone
    expect(store.delete('lock')).toBe(true);
    expect(store.delete('lock')).toBe(false);
    store.setIfAbsent('overwritten', 't', 1000);
    store.set('overwritten', 'V', undefined);
    expect(store.get('overwritten')).toBe('V');
    expect(store.deleteIfEquals('overwritten', 't')).toBe(false);
    expect(store.deleteIfEquals('data', 'D')).toBe(true);
  });
});

describe('MemoryStore', () => {
  it('falls back to Date.now for a clock that returns NaN, so entries still expire', () => {
    const store = new MemoryStore({ clock: { now: () => NaN } });
    store.set('k', 'v', 1000);
    const left = store.ttlOf('k');
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(1000);
  });

  it('returns Buffer and Uint8Array payloads as they were given', () => {
    const store = new MemoryStore();
    const buffer = Buffer.from([0, 0x7c, 0xff]);
    const bytes = new Uint8Array([1, 2, 3]);
    store.set('buf', buffer, undefined);
    store.set('bytes', bytes, undefined);
    expect(store.get('buf')).toBe(buffer);
    expect(store.get('bytes')).toBe(bytes);
  });

  it('reports the remaining ttl from its clock: Infinity without expiry, undefined when absent', () => {
    const clock = fakeClock();
    const store = new MemoryStore({ clock });
    store.set('t', 'v', 5000);
    store.set('forever', 'v', undefined);
    clock.advance(1200);
    expect(store.ttlOf('t')).toBe(3800);
    expect(store.ttlOf('forever')).toBe(Infinity);
    expect(store.ttlOf('absent')).toBeUndefined();
  });

  it('rounds a fractional ttl up to whole milliseconds', () => {
    const store = new MemoryStore({ clock: fakeClock() });
    store.set('t', 'v', 1.2);
    expect(store.ttlOf('t')).toBe(2);
  });

  it('treats an Infinity ttl as no expiry', () => {
    const clock = fakeClock();
    const store = new MemoryStore({ clock });
    store.set('t', 'v', Infinity);
    clock.advance(10 ** 12);
    expect(store.get('t')).toBe('v');
  });

  it('empties itself on clear() and on close()', async () => {
    const store = new MemoryStore();
    store.set('a', 'A', undefined);
    store.clear();
    expect(store.size).toBe(0);
    store.set('b', 'B', undefined);
    await store.close();
    expect(store.get('b')).toBeUndefined();
  });

  it('expires an entry written when the injected clock reads 0', () => {
    // Clock allows "any monotonic origin"; a test clock starting at 0 is the obvious choice.
    const clock = fakeClock(0);
    const store = new MemoryStore({ clock });
    store.set('k', 'v', 1000);
    expect(store.ttlOf('k')).toBe(1000);
    clock.advance(1001);
    expect(store.get('k')).toBeUndefined();
  });
});

describe('MemoryStore getDerived', () => {
  it('derives once per stored payload and derive function, and again after the payload is replaced', () => {
    const store = new MemoryStore();
    const calls: string[] = [];
    const upper = (payload: string | Uint8Array) => {
      calls.push(`upper ${String(payload)}`);
      return String(payload).toUpperCase();
    };
    const length = (payload: string | Uint8Array) => {
      calls.push(`length ${String(payload)}`);
      return String(payload).length;
    };
    store.set('k', 'ab', undefined);
    expect([store.getDerived('k', upper), store.getDerived('k', upper)]).toEqual(['AB', 'AB']);
    expect(store.getDerived('k', length)).toBe(2);
    expect(store.getDerived('k', upper)).toBe('AB');
    store.set('k', 'xyz', undefined);
    expect(store.getDerived('k', upper)).toBe('XYZ');
    expect(store.getDerived('missing', upper)).toBeUndefined();
    expect(calls).toEqual(['upper ab', 'length ab', 'upper ab', 'upper xyz']);
  });

  it('keeps the derived value when a read extends the ttl, and drops it with a compare-and-set', () => {
    const store = new MemoryStore({ clock: fakeClock() });
    let runs = 0;
    const derive = (payload: string | Uint8Array) => `${String(payload)}#${++runs}`;
    store.set('k', 'a', 1000);
    expect(store.getDerived('k', derive)).toBe('a#1');
    store.getAndExpire('k', 5000);
    expect(store.getDerived('k', derive)).toBe('a#1');
    expect(store.replaceIfEquals('k', 'a', 'b')).toBe(true);
    expect(store.getDerived('k', derive)).toBe('b#2');
  });

  it('derives a lock payload on every read', () => {
    const store = new MemoryStore({ clock: fakeClock() });
    let runs = 0;
    store.setIfAbsent('lock', 'token', 1000);
    const derive = (payload: string | Uint8Array) => `${String(payload)}#${++runs}`;
    expect([store.getDerived('lock', derive), store.getDerived('lock', derive)]).toEqual(['token#1', 'token#2']);
  });
});

describe('MemoryStore maxBytes', () => {
  // Key 'a' (2 bytes) + a 9-character payload (18 bytes): 20 bytes an entry.
  const payload = (c: string) => c.repeat(9);

  it('evicts the least recently used entries once the bytes would pass maxBytes', () => {
    const store = new MemoryStore({ maxBytes: 60 });
    store.set('a', payload('A'), undefined);
    store.set('b', payload('B'), undefined);
    store.set('c', payload('C'), undefined);
    expect(store.bytes).toBe(60);
    expect(store.get('a')).toBe(payload('A')); // a is now the most recently used
    store.set('d', payload('D'), undefined);
    expect(store.get('b')).toBeUndefined();
    expect([store.get('a'), store.get('c'), store.get('d')]).toEqual([payload('A'), payload('C'), payload('D')]);
    expect(store.bytes).toBe(60);
  });

  it('counts binary payloads by their byte length', () => {
    const store = new MemoryStore({ maxBytes: 12 });
    store.set('a', new Uint8Array(10), undefined);
    expect(store.bytes).toBe(12);
    store.set('b', new Uint8Array(10), undefined);
    expect([store.get('a'), store.size]).toEqual([undefined, 1]);
  });

  it('stores an entry of exactly maxBytes, and refuses a larger one without its value in the error', () => {
    const store = new MemoryStore({ maxBytes: 20 });
    store.set('a', payload('A'), undefined);
    expect(store.get('a')).toBe(payload('A'));
    let error: unknown;
    try {
      store.set('a', 'SECRET-VALUE', undefined);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CacheStoreError);
    expect((error as CacheStoreError).message).toBe('cachette: memory store: an entry of 26 bytes is larger than maxBytes (20); it was not stored');
    // The older value is gone too: it must not be served in place of the one refused.
    expect(store.get('a')).toBeUndefined();
    expect(store.bytes).toBe(0);
  });

  it('keeps maxEntries too', () => {
    const store = new MemoryStore({ maxEntries: 2, maxBytes: 1000 });
    store.set('a', 'A', undefined);
    store.set('b', 'B', undefined);
    store.get('a');
    store.set('c', 'C', undefined);
    expect([store.size, store.get('a'), store.get('b'), store.get('c')]).toEqual([2, 'A', undefined, 'C']);
  });

  it('does not count the locks', () => {
    const store = new MemoryStore({ maxBytes: 20, clock: fakeClock() });
    store.set('a', payload('A'), undefined);
    expect(store.setIfAbsent('lock', 'a-long-lock-token-value', 1000)).toBe(true);
    expect([store.get('a'), store.bytes]).toEqual([payload('A'), 20]);
  });
});

describe('MemoryStore remaining ttl', () => {
  it('never reports more than the ttl just set, with no clock given (a time read a moment before the write is not reused)', () => {
    const store = new MemoryStore();
    let over = 0;
    for (let i = 0; i < 2000; i++) {
      store.get('k'); // reads the time
      store.set('k', 'v', 1000);
      if ((store.ttlOf('k') as number) > 1000) over++;
    }
    expect(over).toBe(0);
  });
});
