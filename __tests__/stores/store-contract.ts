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
  });
}
