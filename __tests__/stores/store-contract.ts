/**
 * The contract every {@link Store} passes: one suite, run once per store implementation.
 *
 * Usage (one test file per store):
 *
 * ```ts
 * runStoreContract('MemoryStore', async () => {
 *   const clock = fakeClock();
 *   const store = new MemoryStore({ clock });
 *   return { store, advance: (ms) => clock.advance(ms), inspectTtl: (key) => store.ttlOf(key), cleanup: () => store.close() };
 * });
 * ```
 *
 * How TTLs are checked without sleeping:
 * - `inspectTtl(key)` is required and is always asserted: it reports the remaining time to live in ms,
 *   `Infinity` for an entry without expiry, `undefined` for an absent key. For Redis, read `PTTL`
 *   with an admin client: `-1` → `Infinity`, `-2` → `undefined`, otherwise the number.
 *   Assertions on it allow for a server clock that moves on its own (they check a range, not a value).
 * - `advance(ms)` is optional: give it when the store runs on a clock the test controls (the memory
 *   store). The TTL cases then also move time past the TTL and check that the entry is gone. A Redis
 *   store leaves it out: expiry itself is Redis' job, and what cachette controls (the PX it sends) is
 *   what `inspectTtl` shows.
 *
 * Each test gets a fresh store from `makeStore` and calls `cleanup` after it (close the store, flush
 * the database, …). Keys used by the suite all start with `contract:`.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { MaybePromise, Store } from '../../lib/stores/store.js';

/** What `makeStore` gives the contract for one test. */
export interface StoreUnderTest {
  readonly store: Store;
  /** Remaining TTL of `key` in ms; `Infinity` without expiry; `undefined` when the key is absent. */
  readonly inspectTtl: (key: string) => MaybePromise<number | undefined>;
  /** Move the store's clock forward (stores on an injected clock only). */
  readonly advance?: (ms: number) => MaybePromise<void>;
  /** Release the store and whatever the test set up for it. */
  readonly cleanup: () => MaybePromise<void>;
}

const MINUTE = 60_000;

/** Register the store contract suite for one store implementation. */
export function runStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`${name} store contract`, () => {
    let current: StoreUnderTest | undefined;
    let store: Store;

    beforeEach(async () => {
      current = await makeStore();
      store = current.store;
    });

    afterEach(async () => {
      await current?.cleanup();
      current = undefined;
    });

    const ttlOf = async (key: string): Promise<number | undefined> => current!.inspectTtl(key);
    /** Asserts `remaining` is a live TTL of at most `ttlMs` (and more than half of it: no sleeping here). */
    const expectLiveTtl = (remaining: number | undefined, ttlMs: number): void => {
      expect(remaining).toBeDefined();
      expect(remaining).toBeGreaterThan(ttlMs / 2);
      expect(remaining).toBeLessThanOrEqual(ttlMs);
    };

    it('has a short name for logs', () => {
      expect(typeof store.name).toBe('string');
      expect(store.name.length).toBeGreaterThan(0);
    });

    it('returns undefined for a key that was never set', async () => {
      expect(await store.get('contract:absent')).toBeUndefined();
      expect(await ttlOf('contract:absent')).toBeUndefined();
    });

    it('returns exactly the payload that was set', async () => {
      const payload = `c1|json|1700000000000||{"name":"é日本😀","pipes":"a|b"}`;
      await store.set('contract:text', payload, undefined);
      expect(await store.get('contract:text')).toBe(payload);
    });

    it('stores payloads under keys with separators and unicode', async () => {
      await store.set('contract:ns:f:"a:b":é', 'one', undefined);
      await store.set('contract:ns:f:a:"b:é"', 'two', undefined);
      expect(await store.get('contract:ns:f:"a:b":é')).toBe('one');
      expect(await store.get('contract:ns:f:a:"b:é"')).toBe('two');
    });

    it('stores a large payload whole', async () => {
      const payload = 'x'.repeat(256 * 1024);
      await store.set('contract:large', payload, undefined);
      expect(await store.get('contract:large')).toBe(payload);
    });

    it('overwrites a value, and replaces its ttl', async () => {
      await store.set('contract:over', 'first', MINUTE);
      await store.set('contract:over', 'second', undefined);
      expect(await store.get('contract:over')).toBe('second');
      expect(await ttlOf('contract:over')).toBe(Infinity);
    });

    it('keeps keys apart', async () => {
      await store.set('contract:a', 'A', undefined);
      await store.set('contract:b', 'B', undefined);
      expect(await store.delete('contract:a')).toBe(true);
      expect(await store.get('contract:a')).toBeUndefined();
      expect(await store.get('contract:b')).toBe('B');
    });

    it('keeps an entry without a ttl with no expiry', async () => {
      await store.set('contract:forever', 'v', undefined);
      expect(await ttlOf('contract:forever')).toBe(Infinity);
      if (current!.advance) {
        await current!.advance(365 * 24 * 60 * MINUTE);
        expect(await store.get('contract:forever')).toBe('v');
      }
    });

    it('expires an entry after its ttl', async () => {
      await store.set('contract:ttl', 'v', MINUTE);
      expectLiveTtl(await ttlOf('contract:ttl'), MINUTE);
      expect(await store.get('contract:ttl')).toBe('v');
      if (current!.advance) {
        await current!.advance(MINUTE - 1);
        expect(await store.get('contract:ttl')).toBe('v');
        await current!.advance(2);
        expect(await store.get('contract:ttl')).toBeUndefined();
        expect(await ttlOf('contract:ttl')).toBeUndefined();
      }
    });

    it('deletes: true when an entry was removed, false when there was none', async () => {
      expect(await store.delete('contract:del')).toBe(false);
      await store.set('contract:del', 'v', MINUTE);
      expect(await store.delete('contract:del')).toBe(true);
      expect(await store.get('contract:del')).toBeUndefined();
      expect(await store.delete('contract:del')).toBe(false);
    });

    it('deletes a live entry that has a ttl, and reports false for one that has expired', async () => {
      await store.set('contract:live', 'v', MINUTE);
      expect(await store.delete('contract:live')).toBe(true);
      await store.set('contract:stale', 'v', MINUTE);
      if (current!.advance) {
        await current!.advance(MINUTE + 1);
        expect(await store.delete('contract:stale')).toBe(false);
      }
    });

    describe('getAndExpire', () => {
      it('is provided (the engine extends TTLs on hits through it)', () => {
        expect(typeof store.getAndExpire).toBe('function');
      });

      it('returns undefined for an absent key and does not create it', async () => {
        expect(await store.getAndExpire!('contract:gx-absent', MINUTE)).toBeUndefined();
        expect(await store.get('contract:gx-absent')).toBeUndefined();
        expect(await ttlOf('contract:gx-absent')).toBeUndefined();
      });

      it('returns the value and resets its ttl in the same call', async () => {
        await store.set('contract:gx', 'v', MINUTE);
        if (current!.advance) await current!.advance(MINUTE / 2);
        expect(await store.getAndExpire!('contract:gx', 10 * MINUTE)).toBe('v');
        expectLiveTtl(await ttlOf('contract:gx'), 10 * MINUTE);
        if (current!.advance) {
          await current!.advance(MINUTE); // past the original expiry
          expect(await store.get('contract:gx')).toBe('v');
          await current!.advance(9 * MINUTE + 1);
          expect(await store.get('contract:gx')).toBeUndefined();
        }
      });

      it('can shorten a ttl, and gives an entry without expiry one', async () => {
        await store.set('contract:gx-short', 'v', undefined);
        expect(await store.getAndExpire!('contract:gx-short', MINUTE)).toBe('v');
        expectLiveTtl(await ttlOf('contract:gx-short'), MINUTE);
        if (current!.advance) {
          await current!.advance(MINUTE + 1);
          expect(await store.get('contract:gx-short')).toBeUndefined();
        }
      });

      it('removes the expiry when given Infinity', async () => {
        await store.set('contract:gx-persist', 'v', MINUTE);
        expect(await store.getAndExpire!('contract:gx-persist', Infinity)).toBe('v');
        expect(await ttlOf('contract:gx-persist')).toBe(Infinity);
        if (current!.advance) {
          await current!.advance(10 * MINUTE);
          expect(await store.get('contract:gx-persist')).toBe('v');
        }
      });
    });

    describe('setIfAbsent (the miss lock takes its lock with it)', () => {
      it('is provided', () => {
        expect(typeof store.setIfAbsent).toBe('function');
      });

      it('stores into an absent key with the given ttl, and says so', async () => {
        expect(await store.setIfAbsent!('contract:nx', 'token-a', MINUTE)).toBe(true);
        expect(await store.get('contract:nx')).toBe('token-a');
        expectLiveTtl(await ttlOf('contract:nx'), MINUTE);
      });

      it('leaves a key that holds a value alone, value and ttl', async () => {
        await store.set('contract:nx-held', 'first', 10 * MINUTE);
        expect(await store.setIfAbsent!('contract:nx-held', 'second', MINUTE)).toBe(false);
        expect(await store.get('contract:nx-held')).toBe('first');
        expectLiveTtl(await ttlOf('contract:nx-held'), 10 * MINUTE);
        expect(await store.setIfAbsent!('contract:nx-held', 'third', MINUTE)).toBe(false);
      });

      it('lets exactly one of many concurrent attempts win', async () => {
        const attempts = await Promise.all(Array.from({ length: 20 }, (_, i) => store.setIfAbsent!('contract:nx-race', `token-${i}`, MINUTE)));
        expect(attempts.filter(Boolean)).toHaveLength(1);
        expect(await store.get('contract:nx-race')).toBe(`token-${attempts.indexOf(true)}`);
      });

      it('stores again once the earlier value has expired', async () => {
        expect(await store.setIfAbsent!('contract:nx-expire', 'old', MINUTE)).toBe(true);
        if (current!.advance) {
          await current!.advance(MINUTE + 1);
          expect(await store.setIfAbsent!('contract:nx-expire', 'new', MINUTE)).toBe(true);
          expect(await store.get('contract:nx-expire')).toBe('new');
        }
      });

      it('stores again after the key was deleted', async () => {
        expect(await store.setIfAbsent!('contract:nx-del', 'a', MINUTE)).toBe(true);
        await store.delete('contract:nx-del');
        expect(await store.setIfAbsent!('contract:nx-del', 'b', MINUTE)).toBe(true);
        expect(await store.get('contract:nx-del')).toBe('b');
      });
    });

    describe('deleteIfEquals (the miss lock releases its lock with it)', () => {
      it('is provided', () => {
        expect(typeof store.deleteIfEquals).toBe('function');
      });

      it('deletes the key while it holds exactly the given value', async () => {
        await store.setIfAbsent!('contract:cad', 'token-a', MINUTE);
        expect(await store.deleteIfEquals!('contract:cad', 'token-a')).toBe(true);
        expect(await store.get('contract:cad')).toBeUndefined();
        expect(await ttlOf('contract:cad')).toBeUndefined();
      });

      it('leaves a key holding another value alone', async () => {
        await store.set('contract:cad-other', 'token-b', MINUTE);
        expect(await store.deleteIfEquals!('contract:cad-other', 'token-a')).toBe(false);
        expect(await store.deleteIfEquals!('contract:cad-other', 'token-b-and-more')).toBe(false);
        expect(await store.deleteIfEquals!('contract:cad-other', 'token')).toBe(false);
        expect(await store.get('contract:cad-other')).toBe('token-b');
        expectLiveTtl(await ttlOf('contract:cad-other'), MINUTE);
      });

      it('reports false for an absent key', async () => {
        expect(await store.deleteIfEquals!('contract:cad-absent', 'token-a')).toBe(false);
      });

      it('never deletes a lock taken by someone else after the first one expired', async () => {
        await store.setIfAbsent!('contract:cad-lost', 'first-holder', MINUTE);
        if (current!.advance) await current!.advance(MINUTE + 1);
        else await store.delete('contract:cad-lost'); // what expiry does, without sleeping
        expect(await store.setIfAbsent!('contract:cad-lost', 'second-holder', MINUTE)).toBe(true);
        expect(await store.deleteIfEquals!('contract:cad-lost', 'first-holder')).toBe(false);
        expect(await store.get('contract:cad-lost')).toBe('second-holder');
        expect(await store.deleteIfEquals!('contract:cad-lost', 'second-holder')).toBe(true);
      });
    });
  });
}
